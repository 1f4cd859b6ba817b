"""CSV lines from a byte stream: numbered, split into fields, problems named, header skipped.

No column in the dictionary may hold a line break, so a record never spans lines: a quote left
open is reported on its own line instead of swallowing the lines after it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from typing import BinaryIO

from hrdata.errors import Reason

# (line number, fields or the reason the line could not be split, the line without its ending)
ParsedLine = tuple[int, list[str] | Reason, str]

_UNDECODABLE = re.compile("[\udc80-\udcff]")
_SHOWN_CHARS = 200


def parse_lines(
    stream: BinaryIO, *, header: tuple[str, ...], max_line_chars: int
) -> Iterator[ParsedLine]:
    """Yield every non-blank line of `stream` as (number, fields | Reason, text).

    A UTF-8 byte-order mark, CRLF or LF endings and a first line equal to `header` are handled.
    """
    # surrogateescape keeps undecodable bytes visible so one bad line is rejected, not the file.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    readline = text.readline
    number = 0
    first = True
    while True:
        line = readline(max_line_chars)
        if not line:
            return
        number += 1
        if len(line) == max_line_chars and line[-1] not in "\r\n":
            _skip_rest_of_line(readline, max_line_chars)
            reason = Reason(
                "line_too_long", f"line is longer than the limit of {max_line_chars} characters"
            )
            yield number, reason, _shown(line)
            continue
        body = line.rstrip("\r\n")
        if not body or body.isspace():
            continue
        fields = _split(body)
        if first:
            first = False
            if not isinstance(fields, Reason) and _is_header(fields, header):
                continue
        yield number, fields, body


def _split(body: str) -> list[str] | Reason:
    undecodable = None if body.isascii() else _UNDECODABLE.search(body)
    if undecodable:
        where = undecodable.start() + 1
        return Reason("invalid_utf8", f"bytes that are not UTF-8 at character {where}")
    if '"' not in body:
        return body.split(",")
    if body.count('"') % 2:
        return Reason("unbalanced_quotes", "a quoted field is not closed on this line")
    return next(csv.reader([body], skipinitialspace=True))


def _is_header(fields: list[str], header: tuple[str, ...]) -> bool:
    return tuple(f.strip().lower() for f in fields) == header


def _skip_rest_of_line(readline: Callable[[int], str], chunk: int) -> None:
    while True:
        part = readline(chunk)
        if not part or part[-1] in "\r\n":
            return


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


def printable(text: str) -> str:
    """`text` with undecodable bytes and NULs replaced, so JSON and PostgreSQL can store it."""
    if text.isascii() and "\x00" not in text:
        return text
    return _UNDECODABLE.sub("\ufffd", text).replace("\x00", "\ufffd")
