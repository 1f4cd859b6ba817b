"""Request bodies read as strict JSON (RFC 8259): UTF-8 only, no NaN or Infinity, every
number representable, no key given twice, nesting bounded; errors say where, in the
user's terms.

Values that are valid JSON but cannot be a column's value (an integer of thousands of digits,
a row with a key twice) are kept as markers, so that their row is rejected with a reason
instead of the whole batch.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from hrdata.dictionary.types import LongNumber
from hrdata.errors import BadRequestBody

# A row is {"rows": [{column: value}]}: three levels. Deeper values only occur in rows that
# will be rejected; the bound keeps storing them (and this module) far from recursion limits.
MAX_DEPTH = 32
# More digits than any 64-bit integer: certainly out of range, and never handed to int().
MAX_INTEGER_DIGITS = 19


class RepeatedKeys(dict[str, Any]):
    """A JSON object in which some key appears more than once; the last value is kept."""

    repeated: tuple[str, ...] = ()


class _Repeated(Exception):
    def __init__(self, keys: tuple[str, ...]) -> None:
        self.keys = keys


class _NotJson(Exception):
    def __init__(self, token: str) -> None:
        self.token = token


def loads(body: bytes, *, keys_once: bool = False) -> Any:
    """The JSON document in `body`; raises BadRequestBody naming what is wrong and where.

    With `keys_once`, a key given twice in any object is refused too; else it is marked.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        byte = body[exc.start]
        raise BadRequestBody(
            f"the body is not UTF-8: byte 0x{byte:02x} at offset {exc.start}"
        ) from None
    if not keys_once:
        try:
            # Only NaN, Infinity and floats call back; every other value is decoded in C.
            plain = json.loads(text, parse_constant=_refuse, parse_float=_finite)
        except (ValueError, RecursionError, _NotJson):
            plain = None  # the exact decoding below says what is wrong
        if plain is not None and _plain_rows(plain, body):
            return plain
    return _exact(text, keys_once)


def _plain_rows(document: Any, body: bytes) -> bool:
    """Whether `document` is {"rows": [...]} of flat objects with no key given twice, as
    decoded from `body` without the hooks: then the exact decoding would give the same.

    Counting bytes proves it: with no backslash, no string can hold a quote, so every `":` ends
    a key (and none is written `" :`); with one `{` per row (and the root's) and one `[`,
    nothing is nested in a row.
    """
    if not isinstance(document, dict) or len(document) != 1 or "rows" not in document:
        return False
    rows = document["rows"]
    if not isinstance(rows, list) or not set(map(type, rows)) <= {dict} or b"\\" in body:
        return False
    return (
        body.count(b"{") == 1 + len(rows)
        and body.count(b"[") == 1
        and body.count(b'":') == 1 + sum(map(len, rows))
        and _SPACED_KEY_END.search(body) is None
    )


_SPACED_KEY_END = re.compile(rb'"[ \t\r\n]+:')


def _exact(text: str, keys_once: bool) -> Any:
    try:
        document = json.loads(
            text,
            parse_constant=_refuse,
            parse_float=_finite,
            parse_int=_integer,
            object_pairs_hook=_object_once if keys_once else _object,
        )
    except _NotJson as exc:
        raise BadRequestBody(
            f"the body is not strict JSON: {exc.token[:40]} at {_where(text, exc.token)}"
            " is not a JSON number (NaN, Infinity and numbers beyond ±1.8e308 are not)"
        ) from None
    except _Repeated as exc:
        raise BadRequestBody(f"key(s) given more than once: {', '.join(exc.keys)[:200]}") from None
    except json.JSONDecodeError as exc:
        what = "Unexpected byte-order mark" if "BOM" in exc.msg else exc.msg
        where = f"line {exc.lineno} column {exc.colno} (char {exc.pos})"
        raise BadRequestBody(f"the body is not valid JSON: {what} at {where}") from None
    except RecursionError:
        raise BadRequestBody(f"the body's JSON is nested deeper than {MAX_DEPTH} levels") from None
    if _deeper_than(document, MAX_DEPTH):
        raise BadRequestBody(f"the body's JSON is nested deeper than {MAX_DEPTH} levels")
    return document


def _refuse(token: str) -> Any:
    raise _NotJson(token)


def _finite(token: str) -> float:
    value = float(token)
    if math.isinf(value):
        raise _NotJson(token)
    return value


def _integer(token: str) -> int | LongNumber:
    digits = len(token) - token.startswith("-")
    return LongNumber(token) if digits > MAX_INTEGER_DIGITS else int(token)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) == len(pairs):
        return document
    seen: set[str] = set()
    twice: list[str] = []
    for key, _ in pairs:
        if key in seen and key not in twice:
            twice.append(key)
        seen.add(key)
    repeated = RepeatedKeys(document)
    repeated.repeated = tuple(twice)
    return repeated


def _object_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = _object(pairs)
    if isinstance(document, RepeatedKeys):
        raise _Repeated(document.repeated)
    return document


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[^\s"\[\]{},:]+')


def _where(text: str, token: str) -> str:
    """`line L column C` of the first occurrence of `token` outside a string."""
    for match in _TOKENS.finditer(text):
        if match.group() == token:
            line = text.count("\n", 0, match.start()) + 1
            column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
            return f"line {line} column {column} (char {match.start()})"
    return "an unknown position"


def _deeper_than(document: Any, limit: int) -> bool:
    # Iterative, and only containers are walked: rows of scalars cost one pass over the rows.
    stack = [(document, 1)] if isinstance(document, dict | list) else []
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False
