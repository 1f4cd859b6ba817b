"""What every value obeys, whatever its column: the range of ids and hire years, which blanks
are trimmed, which characters are controls, and when two names are the same."""

from __future__ import annotations

import re

# PostgreSQL `integer` is 32-bit signed; ids must also be positive.
MAX_INTEGER = 2_147_483_647
MAX_NAME_LENGTH = 255

# A hire's UTC year: what PostgreSQL, Python and the metrics all represent (no year 0, no 10000).
HIRE_YEARS = (1, 9999)

# "Trimmed" removes only space separators (Unicode category Zs) from both ends of a value.
BLANKS = (
    " \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u202f\u205f\u3000"
)
# Control characters, rejected anywhere in a name, ends included (never trimmed): category Cc
# (C0, DEL, C1), the line and paragraph separators Zl and Zp, and the bidi embeddings,
# overrides and isolates, which reorder how a name is shown ("Trojan Source"). Other format
# characters (Cf: zero-width joiners, soft hyphen, LRM/RLM marks) are part of real names.
CONTROL_RANGES: tuple[tuple[str, str], ...] = (
    ("\x00", "\x1f"),
    ("\x7f", "\x9f"),
    ("\u2028", "\u2029"),
    ("\u202a", "\u202e"),
    ("\u2066", "\u2069"),
)


def control_class() -> str:
    """CONTROL_RANGES as the inside of a regular expression's character class."""
    return "".join(f"{re.escape(low)}-{re.escape(high)}" for low, high in CONTROL_RANGES)


def trim(text: str) -> str:
    """`text` without the blanks at its ends, as every column's value is read."""
    return text.strip(BLANKS)


def name_key(text: str) -> str:
    """What two names must not share in a `unique_name` column: trimmed, case folded."""
    return trim(text).casefold()
