"""The manifest of a backup set: what each file holds and how to tell it is intact.

It is written last, so a set without one (a backup that died midway) is never listed or used.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import fastavro
import pydantic

from hrdata.dictionary import Table
from hrdata.schema import avro_schema
from hrdata.wire import TableFile

MANIFEST = "manifest.json"


def schema_fingerprint(schema: dict[str, Any]) -> str:
    """sha256 of the schema as AVRO files store it, keys sorted.

    Not the parsing canonical form: that drops the timestamp's logical type, which matters.
    """
    stored = json.loads(
        json.dumps(fastavro.parse_schema(schema)),
        # fastavro marks parsed schemas with keys of its own, starting with "__".
        object_hook=lambda d: {k: v for k, v in d.items() if not k.startswith("__")},
    )
    text = json.dumps(stored, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def current_fingerprint(table: Table) -> str:
    return schema_fingerprint(avro_schema(table))


@dataclass
class Manifest:
    backup_id: str
    created_at: str
    hrdata_version: str
    codec: str
    tables: dict[str, TableFile] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str | bytes) -> Manifest:
        """The manifest `text` holds; raises ValueError, in one line, when it holds none."""
        try:
            return _MANIFEST.validate_json(text)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "the document"
            more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
            raise ValueError(f"{where}: {first['msg']}{more}") from None


# Checks every field's type, so a manifest that parses is one the code can use.
_MANIFEST = pydantic.TypeAdapter(Manifest)
