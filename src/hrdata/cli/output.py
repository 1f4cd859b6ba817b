"""What commands print: every line for people escaped onto one line, JSON as it is."""

from __future__ import annotations

import json
import re
from typing import Any

import click
from rich.text import Text

from hrdata.dictionary import control_class

# Shown as escapes: what the dictionary calls control characters (C0, C1, line and paragraph
# separators, bidi overrides), and lone surrogates. A file or key name may hold them; a
# terminal must not obey them.
_ESCAPED = re.compile("[" + control_class() + "\ud800-\udfff]")


def shown(value: object) -> str:
    """`value` as text for a terminal, on one line: those characters as \\x1b, \\u202e..."""
    return _ESCAPED.sub(_escape, str(value))


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def say(message: str, *, err: bool = False, **style: Any) -> None:
    """Print one line for people; every human line goes through here (or cell)."""
    click.secho(shown(message), err=err, **style)


def cell(value: object) -> Text:
    """A table cell: escaped like say, and never read as Rich markup ("[/]", "[link=...]")."""
    return Text(shown(value))


def print_json(value: object) -> None:
    """Print `value` as one line of JSON, for scripts (--json)."""
    click.echo(json.dumps(value))
