"""Migration benchmark: `hrdata migrate` against the physical limits of the same PostgreSQL server.

On one server and one synthetic data set (bench/generate.py), it times:
- limit A: raw COPY of the clean rows into hired_employees exactly as hrdata declares it
  (primary key, both foreign keys checked by per-row triggers);
- limit B: raw COPY into the table with only its primary key, then both foreign keys added and
  validated in bulk;
- `hrdata migrate --json` of the dirty files, as a subprocess: wall time and peak RSS, its counts
  checked against the generator's expected.json;
and, on a larger file, hrdata's peak RSS again, to show that memory does not grow with the rows.
The figures go to the `## Migration` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

import figures
import harness
from harness import BenchmarkFailed, Dataset
from hrdata.dictionary import Table, table
from hrdata.schema import create_table

START, END = figures.markers("migration")

TARGET_THROUGHPUT = 0.5  # hrdata rows/s at least half of limit B's.
TARGET_RSS_MB = 300
TARGET_RSS_GROWTH = 1.2  # RSS on the large file at most 20% above RSS on the base file.


# --- database ----------------------------------------------------------------------------------


def create_parents(url: str, data: Dataset) -> None:
    """departments and jobs as hrdata declares them, loaded (untimed: a few hundred rows)."""
    with psycopg.connect(url) as conn:
        for name in ("departments", "jobs"):
            conn.execute(create_table(table(name)))
        harness.load_parents(conn, data.path)


def without_references(t: Table) -> Table:
    """`t` with its foreign keys removed (primary key, NOT NULL and CHECKs kept)."""
    columns = tuple(dataclasses.replace(c, references=None) for c in t.columns)
    return dataclasses.replace(t, columns=columns)


def add_references(t: Table) -> sql.Composed:
    """ALTER TABLE adding every foreign key of `t`, each validated in one bulk query."""
    clauses = [
        sql.SQL("ADD FOREIGN KEY ({}) REFERENCES {} (id)").format(
            sql.Identifier(c.name), sql.Identifier(c.references)
        )
        for c in t.columns
        if c.references
    ]
    return sql.SQL("ALTER TABLE {} {}").format(sql.Identifier(t.name), sql.SQL(", ").join(clauses))


# --- the three measurements --------------------------------------------------------------------


def limit_a(url: str, data: Dataset) -> float:
    """Seconds to COPY the clean rows into the table with per-row foreign key triggers."""
    employees = table("hired_employees")
    harness.reset(url)
    create_parents(url, data)
    with psycopg.connect(url) as conn:
        # Created in its own transaction, as hrdata does: COPY does not skip the WAL.
        conn.execute(create_table(employees))
        conn.commit()
        started = time.perf_counter()
        harness.copy_file(conn, employees.name, data.path / "hired_employees.clean.tsv")
        conn.commit()
        return time.perf_counter() - started


def limit_b(url: str, data: Dataset) -> float:
    """Seconds to COPY the clean rows with only the primary key, then add the foreign keys."""
    employees = table("hired_employees")
    harness.reset(url)
    create_parents(url, data)
    with psycopg.connect(url) as conn:
        conn.execute(create_table(without_references(employees)))
        conn.commit()
        started = time.perf_counter()
        harness.copy_file(conn, employees.name, data.path / "hired_employees.clean.tsv")
        conn.commit()
        conn.execute(add_references(employees))
        conn.commit()
        return time.perf_counter() - started


@dataclass
class HrdataRun:
    seconds: float
    rss_mb: float
    summary: dict[str, Any]


def run_hrdata(command: list[str], url: str, data: Dataset) -> HrdataRun:
    """`hrdata migrate DIR --json --quiet` on a freshly emptied schema: time, peak RSS, summary."""
    harness.reset(url)
    home = harness.DATA / "hrdata-home"
    shutil.rmtree(home, ignore_errors=True)
    env = harness.hrdata_env(url, home)
    home.mkdir(parents=True)
    out_path, err_path = home / "stdout.json", home / "stderr.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [*command, "migrate", str(data.path), "--json", "--quiet"],
            stdout=out,
            stderr=err,
            env=env,
            cwd=harness.ROOT,
        )
        # wait4 gives this child's own peak RSS (RUSAGE_CHILDREN would be the max of all runs).
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise BenchmarkFailed(
            f"hrdata exited with {process.returncode}: {err_path.read_text()[-2000:]}"
        )
    summary = json.loads(out_path.read_text())
    return HrdataRun(seconds, usage.ru_maxrss * 1024 / harness.MB, summary)


# --- the benchmark -----------------------------------------------------------------------------


@dataclass
class Results:
    """Everything the report needs."""

    data: Dataset
    limit_a: figures.Series
    limit_b: figures.Series
    hrdata: figures.Series
    large: Dataset | None = None
    hrdata_large: figures.Series | None = None


def _show(series: figures.Series, seconds: float, rows: int, extra: str = "") -> None:
    run = len(series.seconds)
    print(f"  {series.label} run {run}: {seconds:7.2f} s  {rows / seconds:>12,.0f} rows/s{extra}")


def timed_hrdata(
    command: list[str],
    url: str,
    data: Dataset,
    series: figures.Series,
    expected_fp: tuple[Any, ...] | None,
) -> None:
    """One verified hrdata run added to `series`."""
    run = run_hrdata(command, url, data)
    harness.verify(run.summary, data.expected)
    if expected_fp is not None and harness.fingerprint(url) != expected_fp:
        raise BenchmarkFailed("hired_employees after hrdata differs from the clean rows")
    series.seconds.append(run.seconds)
    series.rss_mb.append(run.rss_mb)
    _show(series, run.seconds, data.valid_rows, f"  peak RSS {run.rss_mb:6.1f} MB")


def benchmark(args: argparse.Namespace, url: str, command: list[str]) -> Results:
    """Every measurement, repeats interleaved so drift on the machine hits all three alike."""
    data = harness.dataset(args.rows, args.seed, args.regenerate)
    results = Results(
        data, figures.Series("limit A"), figures.Series("limit B"), figures.Series("hrdata migrate")
    )
    clean_fp: tuple[Any, ...] | None = None
    for _ in range(args.repeat):
        seconds = limit_a(url, data)
        clean_fp = clean_fp or harness.fingerprint(url)
        results.limit_a.seconds.append(seconds)
        _show(results.limit_a, seconds, data.valid_rows)
        seconds = limit_b(url, data)
        results.limit_b.seconds.append(seconds)
        _show(results.limit_b, seconds, data.valid_rows)
        timed_hrdata(command, url, data, results.hrdata, clean_fp)
    if args.rows_large:
        results.large = harness.dataset(args.rows_large, args.seed, args.regenerate)
        results.hrdata_large = figures.Series(
            f"hrdata migrate ({harness.size_name(args.rows_large)})"
        )
        for _ in range(args.repeat_large):
            timed_hrdata(command, url, results.large, results.hrdata_large, None)
    return results


# --- the report --------------------------------------------------------------------------------


def _row(label: str, series: figures.Series, rows: int, baseline: float) -> str:
    throughput = rows / series.median
    rss = f"{series.peak_rss:.0f}" if series.peak_rss is not None else "—"
    return (
        f"| {label} | {series.best:.2f} / {series.median:.2f} | {throughput:,.0f} "
        f"| {throughput / baseline:.2f}x | {rss} |"
    )


def migration_section(results: Results, args: argparse.Namespace, url: str) -> str:
    """The `## Migration` section of docs/benchmarks.md, markers included."""
    data, h = results.data, results.hrdata
    expected, rows = data.expected, data.valid_rows
    # Throughput ratios: equal to limit B seconds / run seconds when the row counts are equal.
    baseline = rows / results.limit_b.median
    ratio = rows / h.median / baseline
    rss = h.peak_rss or 0.0
    lines = [
        *figures.heading(START, "Migration", "`bench/migrate.py` (`make bench`)"),
        f"- Server: {figures.server(url)}, on the same machine",
        f"- Data: `bench/generate.py --rows {data.rows} --seed {args.seed}`: {data.rows:,} "
        f"hired_employees lines, {expected['inserted']:,} valid and inserted, "
        f"{expected['rejected']:,} rejected and {expected['skipped']:,} skipped (identical "
        f"duplicates), {len(expected['bad_rows_by_kind'])} kinds of bad row; "
        f"{expected['tables']['departments']['read']} departments, "
        f"{expected['tables']['jobs']['read']} jobs",
        f"- Runs: {args.repeat} of each, interleaved, schema dropped, `VACUUM` and `CHECKPOINT` "
        "before each; hrdata's summary and table contents checked against the generator's",
        "",
        "| run | seconds (min / median) | valid rows/s (median) | throughput vs limit B "
        "| peak RSS (MB) |",
        "|---|---|---|---|---|",
        _row("limit A: `COPY` clean rows, per-row FK triggers", results.limit_a, rows, baseline),
        _row("limit B: `COPY` clean rows, then `ADD FOREIGN KEY`", results.limit_b, rows, baseline),
        _row(f"`hrdata migrate` of the dirty files ({data.rows:,} lines)", h, rows, baseline),
    ]
    if results.large and results.hrdata_large:
        large = results.hrdata_large
        label = f"`hrdata migrate` of the dirty files ({results.large.rows:,} lines)"
        lines.append(_row(label, large, results.large.valid_rows, baseline))
    lines += ["", *_targets(results, ratio, rss), END]
    return "\n".join(lines)


def _targets(results: Results, ratio: float, rss: float) -> list[str]:
    lines = [
        "Rows/s counts valid rows inserted, over the median time; the throughput ratio is a "
        "run's rows/s over limit B's (for equal rows, limit B seconds / run seconds). hrdata's "
        "time is the whole command's wall time, start-up included. Limits A and B run inside "
        "the benchmark's own process: no RSS is shown for them.",
        "",
        "Targets:",
        "",
        f"- hrdata ≥ {TARGET_THROUGHPUT}x the throughput of limit B: {ratio:.2f}x — "
        f"{figures.met(ratio >= TARGET_THROUGHPUT)}",
        f"- peak RSS < {TARGET_RSS_MB} MB: {rss:.0f} MB — {figures.met(rss < TARGET_RSS_MB)}",
    ]
    if results.large and results.hrdata_large and results.hrdata_large.peak_rss:
        large_rss = results.hrdata_large.peak_rss
        growth = large_rss / rss
        lines.append(
            f"- RSS({results.large.rows:,} lines) ≤ {TARGET_RSS_GROWTH} x "
            f"RSS({results.data.rows:,} lines): {large_rss:.0f} MB vs {rss:.0f} MB = "
            f"{growth:.2f}x — {figures.met(growth <= TARGET_RSS_GROWTH)}"
        )
    else:
        lines.append("- RSS on a larger file: not measured (run without `--rows-large 0`)")
    return lines


def save_raw(results: Results) -> None:
    """Every measurement as JSON under bench/data, for a closer look than the table gives."""
    raw = {
        name: dataclasses.asdict(series)
        for name, series in (
            ("limit_a", results.limit_a),
            ("limit_b", results.limit_b),
            ("hrdata", results.hrdata),
            ("hrdata_large", results.hrdata_large),
        )
        if series is not None
    }
    (harness.DATA / "migration-results.json").write_text(json.dumps(raw, indent=2) + "\n")


# --- command line ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="lines of the timed file")
    parser.add_argument(
        "--rows-large",
        type=int,
        default=8_000_000,
        help="lines of the file for the memory run (0: skip it)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timing")
    parser.add_argument("--repeat-large", type=int, default=1, help="runs on the large file")
    harness.add_common_arguments(parser, database="hrdata_bench")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.rows < 1:
        parser.error("--repeat and --rows must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def report(results: Results, url: str) -> str:
        save_raw(results)
        return migration_section(results, args, url)

    return harness.run_benchmark(
        args, lambda url: benchmark(args, url, [args.hrdata]), report, (START, END)
    )


if __name__ == "__main__":
    sys.exit(main())
