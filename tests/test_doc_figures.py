"""Figures quoted outside docs/benchmarks.md come from it: the rows docs/scaling.md quotes are
rows of the benchmark tables as they stand, and its arithmetic is redone from them."""

from __future__ import annotations

from tests.support.paths import DOCS

Rows = dict[str, list[list[str]]]


def table_rows(text: str) -> Rows:
    """The rows of every Markdown table in `text`, grouped by their first cell."""
    rows: Rows = {}
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows.setdefault(cells[0], []).append(cells)
    return rows


BENCHMARKS = table_rows((DOCS / "benchmarks.md").read_text())
SCALING = (DOCS / "scaling.md").read_text()
QUOTED = table_rows(SCALING.split("## What one process does today")[1].split("\n## ")[0])

MIGRATE = "`hrdata migrate` of the dirty files (2,000,000 lines)"
MIGRATE_LARGE = "`hrdata migrate` of the dirty files (8,000,000 lines)"
LIMIT_A = "limit A: `COPY` clean rows, per-row FK triggers"
LIMIT_B = "limit B: `COPY` clean rows, then `ADD FOREIGN KEY`"
BACKUP = "`hrdata backup --tables hired_employees`"
RESTORE = "`hrdata restore hired_employees`"
API = "API: `POST /v1/tables/hired_employees/rows`, JSON, no `Idempotency-Key`"


def quoted(label: str, column: int, row: int = 0) -> str:
    return QUOTED[label][row][column]


def rate(label: str, row: int = 0) -> float:
    column = 5 if label == API else 2
    return float(quoted(label, column, row).replace(",", ""))


def test_every_row_scaling_quotes_is_a_row_of_the_benchmarks_as_they_stand() -> None:
    measured = {label: rows for label, rows in QUOTED.items() if label not in ("run", "writer")}

    assert {MIGRATE, MIGRATE_LARGE, LIMIT_A, LIMIT_B, BACKUP, RESTORE, API} <= set(measured)
    for label, rows in measured.items():
        for row in rows:
            assert row in BENCHMARKS.get(label, []), f"docs/scaling.md quotes a stale row: {row}"


def test_the_migration_arithmetic_of_scaling_is_redone_from_its_quoted_rows() -> None:
    one_process = round(1e9 / rate(MIGRATE) / 60)
    sixteen = 16 * rate(MIGRATE)
    hours, minutes = divmod(round(1e9 / rate(LIMIT_A) / 60), 60)

    assert f"1,000,000,000 / {quoted(MIGRATE, 2)} ≈ **{one_process} minutes**" in SCALING
    assert f"16 \u00d7 {quoted(MIGRATE, 2)} ≈ {sixteen / 1e6:.1f}M rows/s" in SCALING
    assert f"parse in about **{round(1e9 / sixteen / 60)} minutes**" in SCALING
    assert f"reached {quoted(LIMIT_B, 2)} rows/s here" in SCALING
    assert f"of limit A ({quoted(LIMIT_A, 3)})" in SCALING
    assert f"the\n  same {quoted(MIGRATE_LARGE, 4)} MB as today" in SCALING
    assert f"against about {one_process} minutes for one `hrdata migrate`" in SCALING
    assert f"(and {hours} hours {minutes} minutes for a plain `COPY`" in SCALING


def test_the_backup_and_api_arithmetic_of_scaling_is_redone_from_its_quoted_rows() -> None:
    api_at_4 = next(i for i, row in enumerate(QUOTED[API]) if row[1] == "4")

    assert f"`hrdata backup` encodes {quoted(BACKUP, 2)} rows/s" in SCALING
    one_process = round(1e9 / rate(BACKUP) / 60)
    assert f"about\n{one_process} minutes in one process" in SCALING
    assert f"16 workers take about {one_process / 16:.1f} minutes" in SCALING
    assert f"about {quoted(RESTORE, 2)} rows/s per worker" in SCALING
    assert f"{quoted(API, 5, api_at_4)} rows/s with 4 clients" in SCALING
    assert f"about {quoted(API, 6, api_at_4)} ms of CPU per 1,000 rows" in SCALING
