"""The manifest of a backup set: what each file holds and how to tell it is intact.

It is written last, so a set without one (a backup that died midway) is never listed or used.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import fastavro

from hrdata.dictionary import Table
from hrdata.schema import avro_schema

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
class TableFile:
    table: str
    file: str
    rows: int
    bytes: int
    sha256: str
    schema_fingerprint: str


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
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        tables = {name: TableFile(**entry) for name, entry in data.pop("tables").items()}
        return cls(**data, tables=tables)
