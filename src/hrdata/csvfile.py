"""CSV lines from a byte stream: numbered, split into fields, problems named, header skipped.

hrdata's CSV format, read the same way by the loader and by the desktop client that splits a
file into batches, so both count the same lines.

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
from hrdata.errors import Code, HeaderMismatch
from hrdata.wire import Reason

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

    A UTF-8 byte-order mark and CRLF, LF or CR endings are handled; a line longer than
    `max_line_chars` comes as a LineProblem and is never held whole. A first line naming the
    columns of `header` in another order makes every later line come in `header`'s order;
    one that is a header but not of these columns raises HeaderMismatch.
    """
    # surrogateescape keeps undecodable bytes visible so one bad line is rejected, not the file;
    # newline=None turns every line ending into "\n", so each chunk splits into lines in C.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline=None)
    too_long = Reason(
        Code.LINE_TOO_LONG, f"line is longer than the limit of {max_line_chars} characters"
    )
    number = 0
    first = True
    order: list[int] | None = None  # where each column of `header` is in the file's lines
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
            elif first:
                first = False
                order = _header_order(split_fields(line), header)
                if order is None:
                    yield number, line
                elif order == list(range(len(header))):
                    order = None
            else:
                yield number, line if order is None else _reordered(line, order)
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
        return Reason(Code.INVALID_UTF8, f"bytes that are not UTF-8 at character {where}")
    if '"' not in body:
        return body.split(",")
    if body.count('"') % 2:
        return Reason(Code.UNBALANCED_QUOTES, "a quoted field is not closed on this line")
    return next(csv.reader([body], skipinitialspace=True))


def _header_order(fields: list[str] | Reason, header: tuple[str, ...]) -> list[int] | None:
    """Where each column of `header` is, when `fields` is a header line; None for data.

    A header names at least one column and holds no integer (every data line's id is one).
    """
    if isinstance(fields, Reason):
        return None
    names = [trim(f).lower() for f in fields]
    if not set(names) & set(header) or any(n.isdigit() for n in names):
        return None
    missing = [c for c in header if c not in names]
    unknown = sorted({n for n in names if n not in header})
    twice = sorted({n for n in names if names.count(n) > 1})
    if missing or unknown or twice:
        raise HeaderMismatch(list(header), missing, unknown, twice)
    return [names.index(column) for column in header]


def _reordered(line: str, order: list[int]) -> str:
    """`line` with its fields in the order `order` gives, as a CSV line."""
    fields = split_fields(line)
    if isinstance(fields, Reason) or len(fields) != len(order):
        return line  # rejected as it is: its own reason says why
    chosen = [fields[i] for i in order]
    if not any("," in f or '"' in f for f in chosen):
        return ",".join(chosen)
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(chosen)
    return out.getvalue()


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


def printable(text: str) -> str:
    """`text` with undecodable bytes, lone surrogates and NULs replaced, so JSON and PostgreSQL
    can store it."""
    if text.isascii() and "\x00" not in text:
        return text
    return _SURROGATE.sub("\ufffd", text).replace("\x00", "\ufffd")
