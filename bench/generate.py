"""Large synthetic exports for the benchmarks, in the format of data/challenge, with known answers.

`python bench/generate.py --rows 2000000 --out bench/data/2m` writes departments.csv, jobs.csv
and hired_employees.csv (headerless, CRLF), about 3% of the employee rows bad in every way the
loader rejects, plus:
- expected.json: what `hrdata migrate --json` must report (inserted, rejected, skipped, reasons);
- hired_employees.clean.tsv: the rows hrdata must insert, in COPY text format, for the raw limit.

Output is a function of the arguments only (seeded), and memory stays flat whatever --rows is.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO

# Bump when the output for the same arguments changes, so stale data sets are regenerated.
GENERATOR_VERSION = 2  # 2: a negative id is out_of_range, as the rules now say

ROOT = Path(__file__).resolve().parents[1]
CHALLENGE = ROOT / "data" / "challenge"
MAX_INTEGER = 2_147_483_647  # PostgreSQL integer; the dictionary's upper bound for ids.
MAX_NAME_LENGTH = 255
DEFAULT_MAX_LINE_CHARS = 1 << 20  # hrdata's default max_line_bytes.

BLOCK = 1000  # Bad rows are placed at random offsets inside every block of this many lines.
WRITE_BLOCKS = 64  # Blocks buffered per write: ~4 MB per write call.
RECENT = 4096  # Valid rows remembered as targets for in-file duplicates.
FIRST_DAY = date(2021, 2, 1)  # The export's hire dates run from February 2021...
DAYS = 393  # ...to the end of February 2022.

# A few valid non-ASCII names, so the UTF-8 path of the loader is exercised too.
ACCENTED_FIRST = ("José", "Zoë", "Søren", "Łukasz", "Renée", "Noémie", "Jürgen", "Ñuño")

Fields = list[str]
Maker = Callable[["Generator", int, Fields], str]


@dataclass(frozen=True)
class BadKind:
    """One kind of bad row: the code hrdata reports for it, and how to make one."""

    name: str
    code: str
    make: Maker
    skipped: bool = False  # True for identical duplicates: skipped, not rejected.


def _with(fields: Fields, index: int, value: str) -> str:
    changed = list(fields)
    changed[index] = value
    return ",".join(changed)


def _duplicate(gen: Generator, slot: int, fields: Fields) -> str:
    return ",".join(gen.earlier_row())


def _conflicting_duplicate(gen: Generator, slot: int, fields: Fields) -> str:
    earlier = gen.earlier_row()
    # Same id as a row already inserted, another job (or another name): a real conflict.
    job = str(int(earlier[4]) % gen.jobs + 1)
    return _with(earlier, 4, job) if slot % 2 else _with(earlier, 1, earlier[1] + " Jr")


def _simple(index: int, value: Callable[[int, Fields], str]) -> Maker:
    return lambda gen, slot, fields: _with(fields, index, value(slot, fields))


BAD_KINDS: tuple[BadKind, ...] = (
    BadKind("empty_id", "missing", _simple(0, lambda s, f: "")),
    BadKind("empty_name", "missing", _simple(1, lambda s, f: "")),
    BadKind("blank_name", "missing", _simple(1, lambda s, f: "   ")),
    BadKind("empty_datetime", "missing", _simple(2, lambda s, f: "")),
    BadKind("empty_department_id", "missing", _simple(3, lambda s, f: "")),
    BadKind("empty_job_id", "missing", _simple(4, lambda s, f: "")),
    BadKind("id_not_integer", "not_an_integer", _simple(0, lambda s, f: f"A{s}")),
    BadKind("id_decimal", "not_an_integer", _simple(0, lambda s, f: f"{s}.0")),
    BadKind("id_negative", "out_of_range", _simple(0, lambda s, f: f"-{s}")),
    BadKind("id_zero", "out_of_range", _simple(0, lambda s, f: "0")),
    BadKind("id_too_big", "out_of_range", _simple(0, lambda s, f: str(MAX_INTEGER + s))),
    BadKind("id_too_many_digits", "out_of_range", _simple(0, lambda s, f: f"{s}00000000000")),
    BadKind("department_not_integer", "not_an_integer", _simple(3, lambda s, f: "Sales")),
    BadKind("datetime_without_offset", "missing_offset", _simple(2, lambda s, f: f[2][:-1])),
    BadKind(
        "datetime_impossible",
        "impossible_datetime",
        _simple(2, lambda s, f: "2021-02-30T10:00:00Z"),
    ),
    BadKind("datetime_garbage", "invalid_datetime", _simple(2, lambda s, f: "07/11/2021 02:48")),
    BadKind(
        "unknown_department_id",
        "unknown_reference",
        lambda g, s, f: _with(f, 3, str(g.departments + 1)),
    ),
    BadKind("unknown_job_id", "unknown_reference", lambda g, s, f: _with(f, 4, str(g.jobs + 1))),
    BadKind("name_too_long", "too_long", _simple(1, lambda s, f: "Ab" * 128)),
    BadKind("control_character", "control_character", _simple(1, lambda s, f: f[1] + "\x07")),
    BadKind("too_few_fields", "wrong_field_count", lambda g, s, f: ",".join(f[:4])),
    BadKind("too_many_fields", "wrong_field_count", lambda g, s, f: ",".join([*f, "x"])),
    BadKind("unbalanced_quote", "unbalanced_quotes", _simple(1, lambda s, f: '"' + f[1])),
    # A Latin-1 é: written back as the single byte 0xE9 by the surrogateescape encoding.
    BadKind("invalid_utf8", "invalid_utf8", _simple(1, lambda s, f: f[1] + " M\udce9ndez")),
    BadKind("duplicate_identical", "duplicate_in_source", _duplicate, skipped=True),
    BadKind("duplicate_conflicting", "duplicate_conflict", _conflicting_duplicate),
)
LINE_TOO_LONG = "line_too_long"


@dataclass
class Expected:
    """What hrdata must report for hired_employees.csv."""

    rows: int = 0
    inserted: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    skipped_by_reason: Counter[str] = field(default_factory=Counter)

    @property
    def skipped(self) -> int:
        return sum(self.skipped_by_reason.values())

    @property
    def rejected(self) -> int:
        return self.rows - self.inserted - self.skipped


class Generator:
    """Makes the employee lines, block by block, and counts what each one should become."""

    def __init__(
        self, seed: int, names: tuple[list[str], list[str]], departments: int, jobs: int
    ) -> None:
        self.rng = random.Random(seed)
        self.first_names, self.last_names = names
        self.departments: int = departments
        self.jobs: int = jobs
        self.days = [(FIRST_DAY + timedelta(days=d)).isoformat() for d in range(DAYS)]
        self.clock = [f"{n:02d}" for n in range(60)]
        self.recent: list[Fields] = []
        self.recent_next = 0
        self.kind_order = list(BAD_KINDS)
        self.rng.shuffle(self.kind_order)
        self.bad_made = 0
        self.expected = Expected()

    def earlier_row(self) -> Fields:
        """A row already written as valid (so inserted), picked from the recent ones."""
        return self.recent[self.rng.randrange(len(self.recent))]

    def _remember(self, fields: Fields) -> None:
        if len(self.recent) < RECENT:
            self.recent.append(fields)
        else:
            self.recent[self.recent_next] = fields
            self.recent_next = (self.recent_next + 1) % RECENT

    def _valid_fields(self, first: int, count: int) -> list[Fields]:
        rng, clock = self.rng, self.clock
        firsts = rng.choices(self.first_names, k=count)
        lasts = rng.choices(self.last_names, k=count)
        days = rng.choices(self.days, k=count)
        hours = rng.choices(clock[:24], k=count)
        minutes = rng.choices(clock, k=count)
        seconds = rng.choices(clock, k=count)
        departments = rng.choices(range(1, self.departments + 1), k=count)
        jobs = rng.choices(range(1, self.jobs + 1), k=count)
        return [
            [str(first + k), f"{fn} {ln}", f"{d}T{h}:{m}:{s}Z", str(dep), str(job)]
            for k, (fn, ln, d, h, m, s, dep, job) in enumerate(
                zip(firsts, lasts, days, hours, minutes, seconds, departments, jobs, strict=True)
            )
        ]

    def block(
        self, first: int, count: int, bad: int, long_lines: set[int], max_line_chars: int
    ) -> tuple[list[str], list[str]]:
        """Lines `first`..`first+count-1` (line n has id n), `bad` of them bad; and clean rows."""
        rows = self._valid_fields(first, count)
        bad_offsets = set(self.rng.sample(range(count), bad))
        lines, clean = [], []
        for offset, fields in enumerate(rows):
            slot = first + offset
            kind = None
            if slot in long_lines:
                lines.append(f"{slot},{'x' * max_line_chars},{fields[2]},1,1")
                self._count_bad(LINE_TOO_LONG, LINE_TOO_LONG, False)
                continue
            if offset in bad_offsets and self.recent:
                kind = self.kind_order[self.bad_made % len(self.kind_order)]
                self.bad_made += 1
                lines.append(kind.make(self, slot, fields))
                self._count_bad(kind.name, kind.code, kind.skipped)
                continue
            lines.append(",".join(fields))
            clean.append("\t".join(fields))
            self._remember(fields)
            self.expected.inserted += 1
        self.expected.rows += count
        return lines, clean

    def _count_bad(self, kind: str, code: str, skipped: bool) -> None:
        self.expected.by_kind[kind] += 1
        if skipped:
            self.expected.skipped_by_reason[code] += 1
        else:
            self.expected.rejected_by_reason[code] += 1


def read_reference(path: Path) -> list[tuple[str, str]]:
    """(id, name) pairs of a headerless two-column export file."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            key, name = line.split(",", 1)
            pairs.append((key, name))
    return pairs


def read_names(path: Path) -> tuple[list[str], list[str]]:
    """First names and surnames seen in the export (surnames may be several words)."""
    firsts, lasts = set(), set()
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split(",")
        if len(parts) == 5 and " " in parts[1].strip():
            first, last = parts[1].strip().split(" ", 1)
            firsts.add(first)
            lasts.add(last)
    return sorted(firsts) + list(ACCENTED_FIRST), sorted(lasts)


def write_reference(path: Path, pairs: list[tuple[str, str]]) -> None:
    path.write_bytes("".join(f"{key},{name}\r\n" for key, name in pairs).encode("utf-8"))


def long_line_slots(rows: int, every: int) -> set[int]:
    """Line numbers of the (few) lines longer than hrdata's limit: one in the middle of each
    `every` lines."""
    if every <= 0:
        return set()
    return set(range(every // 2, rows + 1, every)) - {0}


def write_employees(
    gen: Generator,
    out: IO[bytes],
    clean: IO[bytes],
    rows: int,
    bad_share: float,
    long_lines: set[int],
    max_line_chars: int,
) -> None:
    """Stream `rows` lines to `out` (and the valid ones to `clean`), a few MB per write."""
    lines: list[str] = []
    clean_rows: list[str] = []
    for index, first in enumerate(range(1, rows + 1, BLOCK), start=1):
        count = min(BLOCK, rows + 1 - first)
        block_lines, block_clean = gen.block(
            first, count, round(count * bad_share), long_lines, max_line_chars
        )
        lines += block_lines
        clean_rows += block_clean
        if index % WRITE_BLOCKS == 0:
            _flush(out, lines, "\r\n")
            _flush(clean, clean_rows, "\n")
    _flush(out, lines, "\r\n")
    _flush(clean, clean_rows, "\n")


def _flush(out: IO[bytes], lines: list[str], ending: str) -> None:
    if lines:
        out.write((ending.join(lines) + ending).encode("utf-8", errors="surrogateescape"))
        lines.clear()


def expected_summary(
    args: argparse.Namespace, departments: int, jobs: int, expected: Expected
) -> dict[str, object]:
    """expected.json: the generator's arguments and the counts hrdata must report."""
    return {
        "generator_version": GENERATOR_VERSION,
        "seed": args.seed,
        "rows": expected.rows,
        "bad_share": args.bad_share,
        "long_line_every": args.long_line_every,
        "max_line_chars": args.max_line_chars,
        "inserted": expected.inserted,
        "rejected": expected.rejected,
        "skipped": expected.skipped,
        "clean_rows": expected.inserted,
        "tables": {
            "departments": {"read": departments, "inserted": departments},
            "jobs": {"read": jobs, "inserted": jobs},
            "hired_employees": {
                "read": expected.rows,
                "inserted": expected.inserted,
                "rejected": expected.rejected,
                "skipped": expected.skipped,
                "rejected_by_reason": dict(sorted(expected.rejected_by_reason.items())),
                "skipped_by_reason": dict(sorted(expected.skipped_by_reason.items())),
            },
        },
        "bad_rows_by_kind": dict(sorted(expected.by_kind.items())),
    }


def generate(args: argparse.Namespace) -> dict[str, object]:
    """Write the data set described by `args` into args.out; return expected.json's content."""
    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    departments = read_reference(args.source / "departments.csv")
    jobs = read_reference(args.source / "jobs.csv")
    write_reference(out_dir / "departments.csv", departments)
    write_reference(out_dir / "jobs.csv", jobs)
    names = read_names(args.source / "hired_employees.csv")
    gen = Generator(args.seed, names, len(departments), len(jobs))
    # Written under temporary names first: a half-written set never looks complete.
    parts = [out_dir / f"{name}.partial" for name in ("hired_employees.csv", "clean.tsv")]
    with parts[0].open("wb") as out, parts[1].open("wb") as clean:
        write_employees(
            gen,
            out,
            clean,
            args.rows,
            args.bad_share,
            long_line_slots(args.rows, args.long_line_every),
            args.max_line_chars,
        )
    parts[0].replace(out_dir / "hired_employees.csv")
    parts[1].replace(out_dir / "hired_employees.clean.tsv")
    summary = expected_summary(args, len(departments), len(jobs), gen.expected)
    (out_dir / "expected.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="hired_employees lines")
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--bad-share", type=float, default=0.03, help="share of bad rows")
    parser.add_argument(
        "--long-line-every",
        type=int,
        default=1_000_000,
        help="one line longer than --max-line-chars per this many lines (0: none)",
    )
    parser.add_argument("--max-line-chars", type=int, default=DEFAULT_MAX_LINE_CHARS)
    parser.add_argument(
        "--source", type=Path, default=CHALLENGE, help="export to take departments, jobs, names"
    )
    args = parser.parse_args(argv)
    if args.rows < 1 or not 0 <= args.bad_share < 0.5:
        parser.error("--rows must be positive and --bad-share in [0, 0.5)")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    summary = generate(args)
    elapsed = time.perf_counter() - started
    print(json.dumps(summary, indent=2))
    print(f"{args.rows} rows written to {args.out} in {elapsed:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
