"""CSV lines from a byte stream: numbered, split into fields, problems named, header skipped.

No column in the dictionary may hold a line break, so a record never spans lines: a quote left
open is reported on its own line instead of swallowing the lines after it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

from hrdata.dictionary import BLANKS, trim
from hrdata.errors import Reason

_UNDECODABLE = re.compile("[\udc80-\udcff]")
# Undecodable bytes, and lone surrogates (a JSON body may escape one: "\ud800").
_SURROGATE = re.compile("[\ud800-\udfff]")
# A line of nothing but these holds no data and is skipped; other controls make it a reject.
_BLANK_LINE = BLANKS + "\t"
_SHOWN_CHARS = 200
_CHUNK_CHARS = 1 << 20


class LineProblem(NamedTuple):
    """A line that cannot even be split into fields: why, and the part of it worth showing."""

    reason: Reason
    text: str


# (line number, the line without its ending, or the problem that line has)
Line = tuple[int, "str | LineProblem"]


def read_lines(stream: BinaryIO, *, header: tuple[str, ...], max_line_chars: int) -> Iterator[Line]:
    """Yield every non-blank line of `stream`, numbered, without its line ending.

    A UTF-8 byte-order mark, CRLF, LF or CR endings and a first line equal to `header` are
    handled; a line longer than `max_line_chars` comes as a LineProblem and is never held whole.
    """
    # surrogateescape keeps undecodable bytes visible so one bad line is rejected, not the file;
    # newline=None turns every line ending into "\n", so each chunk splits into lines in C.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline=None)
    too_long = Reason(
        "line_too_long", f"line is longer than the limit of {max_line_chars} characters"
    )
    number = 0
    first = True
    partial = ""  # the start of a line that ends in a later chunk
    skipping = False  # inside a line already reported as too long
    while True:
        chunk = text.read(_CHUNK_CHARS)
        lines = (partial + chunk).split("\n") if chunk else [partial]
        partial = lines.pop() if chunk else ""
        if skipping and chunk:
            if not lines:
                partial = ""  # still inside the overlong line: drop what came of it
                continue
            lines[0], skipping = "", False  # its end: counted and reported already
            number -= 1
        if len(partial) > max_line_chars:
            lines.append(partial)
            partial, skipping = "", True
        for line in lines:
            number += 1
            if len(line) > max_line_chars:
                yield number, LineProblem(too_long, _shown(line))
            elif not line.strip(_BLANK_LINE):
                continue
            elif first and _is_header(split_fields(line), header):
                first = False
            else:
                first = False
                yield number, line
        if not chunk:
            return


def parse_lines(
    stream: BinaryIO, *, header: tuple[str, ...], max_line_chars: int
) -> Iterator[tuple[int, list[str] | Reason, str]]:
    """Yield every non-blank line of `stream` as (number, fields or Reason, text)."""
    for number, line in read_lines(stream, header=header, max_line_chars=max_line_chars):
        if isinstance(line, LineProblem):
            yield number, line.reason, line.text
        else:
            yield number, split_fields(line), line


def split_fields(body: str) -> list[str] | Reason:
    """The fields of one CSV line (RFC 4180 quoting), or why it cannot be split."""
    undecodable = None if body.isascii() else _UNDECODABLE.search(body)
    if undecodable:
        where = undecodable.start() + 1
        return Reason("invalid_utf8", f"bytes that are not UTF-8 at character {where}")
    if '"' not in body:
        return body.split(",")
    if body.count('"') % 2:
        return Reason("unbalanced_quotes", "a quoted field is not closed on this line")
    return next(csv.reader([body], skipinitialspace=True))


def _is_header(fields: list[str] | Reason, header: tuple[str, ...]) -> bool:
    if isinstance(fields, Reason):
        return False
    return tuple(trim(f).lower() for f in fields) == header


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


def printable(text: str) -> str:
    """`text` with undecodable bytes, lone surrogates and NULs replaced, so JSON and PostgreSQL
    can store it."""
    if text.isascii() and "\x00" not in text:
        return text
    return _SURROGATE.sub("\ufffd", text).replace("\x00", "\ufffd")
