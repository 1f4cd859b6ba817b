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
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

import generate
from hrdata.dictionary import Table, table
from hrdata.schema import create_table

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
DOC = ROOT / "docs" / "benchmarks.md"
R = TypeVar("R")  # what a benchmark measured
START, END = "<!-- migration:start -->", "<!-- migration:end -->"
COPY_CHUNK = 1 << 20
MB = 1024 * 1024

TARGET_THROUGHPUT = 0.5  # hrdata rows/s at least half of limit B's.
TARGET_RSS_MB = 300
TARGET_RSS_GROWTH = 1.2  # RSS on the large file at most 20% above RSS on the base file.


class BenchmarkFailed(Exception):
    """hrdata did not do what the generator says it must: the figures would mean nothing."""


@dataclass
class Dataset:
    """A generated data set: its folder and what hrdata must report for it."""

    path: Path
    expected: dict[str, Any]

    @property
    def rows(self) -> int:
        return int(self.expected["rows"])

    @property
    def valid_rows(self) -> int:
        return int(self.expected["inserted"])


@dataclass
class Series:
    """Repeated measurements of one thing: seconds, and peak RSS where it applies."""

    label: str
    seconds: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak_rss(self) -> float | None:
        return max(self.rss_mb) if self.rss_mb else None


# --- data --------------------------------------------------------------------------------------


def dataset(rows: int, seed: int, regenerate: bool) -> Dataset:
    """The data set of `rows` lines under bench/data, generated unless already there."""
    folder = DATA / _size_name(rows)
    expected_file = folder / "expected.json"
    args = generate.parse_args(["--rows", str(rows), "--out", str(folder), "--seed", str(seed)])
    if not regenerate and expected_file.exists():
        expected = json.loads(expected_file.read_text())
        wanted = {"generator_version": generate.GENERATOR_VERSION, "rows": rows, "seed": seed}
        files = ("hired_employees.csv", "hired_employees.clean.tsv", "departments.csv", "jobs.csv")
        complete = all((folder / name).exists() for name in files)
        if complete and all(expected.get(key) == value for key, value in wanted.items()):
            print(f"data: reusing {_relative(folder)} ({rows:,} rows)")
            return Dataset(folder, expected)
    print(f"data: generating {rows:,} rows into {_relative(folder)}...", flush=True)
    started = time.perf_counter()
    expected = generate.generate(args)
    print(f"data: generated in {time.perf_counter() - started:.1f} s")
    return Dataset(folder, expected)


def _size_name(rows: int) -> str:
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}m"
    return f"{rows // 1000}k" if rows % 1000 == 0 else str(rows)


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


# --- database ----------------------------------------------------------------------------------


def recreate_database(server_url: str, name: str) -> str:
    """Drop and create database `name` on the server; return its URL."""
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_conninfo(server_url, dbname=name)


def reset(url: str) -> None:
    """An empty public schema, dead rows vacuumed and dirty pages flushed: runs start equal."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
        conn.execute("VACUUM")
        conn.execute("CHECKPOINT")


def copy_file(conn: psycopg.Connection, table_name: str, path: Path) -> None:
    """Stream a COPY text file into `table_name`, a megabyte at a time."""
    statement = sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(table_name))
    with path.open("rb") as source, conn.cursor().copy(statement) as copy:
        while chunk := source.read(COPY_CHUNK):
            copy.write(chunk)


def create_parents(url: str, data: Dataset) -> None:
    """departments and jobs as hrdata declares them, loaded (untimed: a few hundred rows)."""
    with psycopg.connect(url) as conn:
        for name in ("departments", "jobs"):
            conn.execute(create_table(table(name)))
            rows = generate.read_reference(data.path / f"{name}.csv")
            statement = sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(name))
            with conn.cursor().copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)


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


def fingerprint(url: str) -> tuple[Any, ...]:
    """Aggregates of every hired_employees column: equal fingerprints, equal contents (in
    practice), so hrdata is checked to have inserted exactly the clean rows."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*), sum(id::bigint), sum(hashtext(name)::bigint), "
            "sum(extract(epoch FROM datetime))::bigint, sum(department_id * 1000 + job_id) "
            "FROM hired_employees"
        ).fetchone()
    assert row is not None
    return tuple(row)


# --- the three measurements --------------------------------------------------------------------


def limit_a(url: str, data: Dataset) -> float:
    """Seconds to COPY the clean rows into the table with per-row foreign key triggers."""
    employees = table("hired_employees")
    reset(url)
    create_parents(url, data)
    with psycopg.connect(url) as conn:
        # Created in its own transaction, as hrdata does: COPY does not skip the WAL.
        conn.execute(create_table(employees))
        conn.commit()
        started = time.perf_counter()
        copy_file(conn, employees.name, data.path / "hired_employees.clean.tsv")
        conn.commit()
        return time.perf_counter() - started


def limit_b(url: str, data: Dataset) -> float:
    """Seconds to COPY the clean rows with only the primary key, then add the foreign keys."""
    employees = table("hired_employees")
    reset(url)
    create_parents(url, data)
    with psycopg.connect(url) as conn:
        conn.execute(create_table(without_references(employees)))
        conn.commit()
        started = time.perf_counter()
        copy_file(conn, employees.name, data.path / "hired_employees.clean.tsv")
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
    reset(url)
    home = DATA / "hrdata-home"
    shutil.rmtree(home, ignore_errors=True)
    # Only the benchmark's settings: no HRDATA_* from the caller's shell changes the figures.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HRDATA_")}
    env |= {"HRDATA_DATABASE_URL": url, "HRDATA_HOME": str(home)}
    home.mkdir(parents=True)
    out_path, err_path = home / "stdout.json", home / "stderr.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [*command, "migrate", str(data.path), "--json", "--quiet"],
            stdout=out,
            stderr=err,
            env=env,
            cwd=ROOT,
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
    return HrdataRun(seconds, usage.ru_maxrss * 1024 / MB, summary)


def verify(summary: dict[str, Any], expected: dict[str, Any]) -> None:
    """Raise BenchmarkFailed unless hrdata's counts are exactly the generator's."""
    problems = []
    if summary.get("status") != "succeeded":
        problems.append(f"status {summary.get('status')!r}")
    for table_name, wanted in expected["tables"].items():
        got = summary["tables"].get(table_name, {})
        for key, value in wanted.items():
            if got.get(key) != value:
                problems.append(f"{table_name}.{key}: expected {value}, got {got.get(key)}")
    if problems:
        raise BenchmarkFailed("hrdata's summary is wrong: " + "; ".join(problems))


# --- the benchmark -----------------------------------------------------------------------------


@dataclass
class Results:
    """Everything the report needs."""

    data: Dataset
    limit_a: Series
    limit_b: Series
    hrdata: Series
    large: Dataset | None = None
    hrdata_large: Series | None = None


def _show(series: Series, seconds: float, rows: int, extra: str = "") -> None:
    run = len(series.seconds)
    print(f"  {series.label} run {run}: {seconds:7.2f} s  {rows / seconds:>12,.0f} rows/s{extra}")


def timed_hrdata(
    command: list[str], url: str, data: Dataset, series: Series, expected_fp: tuple[Any, ...] | None
) -> None:
    """One verified hrdata run added to `series`."""
    run = run_hrdata(command, url, data)
    verify(run.summary, data.expected)
    if expected_fp is not None and fingerprint(url) != expected_fp:
        raise BenchmarkFailed("hired_employees after hrdata differs from the clean rows")
    series.seconds.append(run.seconds)
    series.rss_mb.append(run.rss_mb)
    _show(series, run.seconds, data.valid_rows, f"  peak RSS {run.rss_mb:6.1f} MB")


def benchmark(args: argparse.Namespace, url: str, command: list[str]) -> Results:
    """Every measurement, repeats interleaved so drift on the machine hits all three alike."""
    data = dataset(args.rows, args.seed, args.regenerate)
    results = Results(data, Series("limit A"), Series("limit B"), Series("hrdata migrate"))
    clean_fp: tuple[Any, ...] | None = None
    for _ in range(args.repeat):
        seconds = limit_a(url, data)
        clean_fp = clean_fp or fingerprint(url)
        results.limit_a.seconds.append(seconds)
        _show(results.limit_a, seconds, data.valid_rows)
        seconds = limit_b(url, data)
        results.limit_b.seconds.append(seconds)
        _show(results.limit_b, seconds, data.valid_rows)
        timed_hrdata(command, url, data, results.hrdata, clean_fp)
    if args.rows_large:
        results.large = dataset(args.rows_large, args.seed, args.regenerate)
        results.hrdata_large = Series(f"hrdata migrate ({_size_name(args.rows_large)})")
        for _ in range(args.repeat_large):
            timed_hrdata(command, url, results.large, results.hrdata_large, None)
    return results


# --- the report --------------------------------------------------------------------------------


def _command_output(command: list[str]) -> str:
    try:
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def machine() -> str:
    """Cores, CPU model, RAM and OS of this machine, in one line."""
    cpuinfo = Path("/proc/cpuinfo")
    model = "unknown CPU"
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores, {model}, {ram:.1f} GiB RAM, {system}"


def server(url: str) -> str:
    """PostgreSQL version and the settings that matter for bulk loads."""
    names = ("shared_buffers", "max_wal_size", "wal_level", "synchronous_commit", "fsync")
    with psycopg.connect(url) as conn:
        version = _setting(conn, "server_version")
        settings = ", ".join(f"{name}={_setting(conn, name)}" for name in names)
    return f"PostgreSQL {version} ({settings})"


def _setting(conn: psycopg.Connection, name: str) -> str:
    row = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
    return str(row[0]) if row else "?"


def commit() -> str:
    """The git commit measured, flagged when src/ has uncommitted changes."""
    short = _command_output(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    dirty = _command_output(["git", "status", "--porcelain", "--", "src"])
    return f"{short} (with uncommitted changes in src/)" if dirty else short


def _met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def _row(label: str, series: Series, rows: int, baseline: float) -> str:
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
        START,
        "## Migration",
        "",
        "Written by `bench/migrate.py` (`make bench`); see bench/README.md. Do not edit by hand.",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {commit()}",
        f"- Machine: {machine()}",
        f"- Server: {server(url)}, on the same machine",
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
        f"{_met(ratio >= TARGET_THROUGHPUT)}",
        f"- peak RSS < {TARGET_RSS_MB} MB: {rss:.0f} MB — {_met(rss < TARGET_RSS_MB)}",
    ]
    if results.large and results.hrdata_large and results.hrdata_large.peak_rss:
        large_rss = results.hrdata_large.peak_rss
        growth = large_rss / rss
        lines.append(
            f"- RSS({results.large.rows:,} lines) ≤ {TARGET_RSS_GROWTH} x "
            f"RSS({results.data.rows:,} lines): {large_rss:.0f} MB vs {rss:.0f} MB = "
            f"{growth:.2f}x — {_met(growth <= TARGET_RSS_GROWTH)}"
        )
    else:
        lines.append("- RSS on a larger file: not measured (run without `--rows-large 0`)")
    return lines


def write_section(doc: Path, section: str, markers: tuple[str, str] = (START, END)) -> None:
    """Replace one section of `doc` (between `markers`, the migration's by default), keeping
    every other one; append it when the markers are absent."""
    start, end = markers
    if not doc.exists():
        doc.parent.mkdir(parents=True, exist_ok=True)
        header = (
            "# Benchmarks\n\n"
            "One section per benchmark, each rewritten by its script between its markers; "
            "text outside the markers is kept.\n\n"
        )
        doc.write_text(header + section + "\n")
        return
    text = doc.read_text()
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        doc.write_text(before + section + after)
    else:
        doc.write_text(text.rstrip("\n") + "\n\n" + section + "\n")


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
    (DATA / "migration-results.json").write_text(json.dumps(raw, indent=2) + "\n")


# --- command line ------------------------------------------------------------------------------


def add_common_arguments(
    parser: argparse.ArgumentParser,
    *,
    database: str,
    doc: Path | None = DOC,
    data_set: bool = True,
) -> None:
    """The options every benchmark takes: its server and database, the data's seed (and
    --regenerate when it reads a generated data set), its doc, and the hrdata command."""
    parser.add_argument(
        "--server-url",
        default=os.environ.get("BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL server (a superuser: CHECKPOINT, CREATE DATABASE)",
    )
    parser.add_argument("--database", default=database, help="database (re)created for it")
    parser.add_argument("--seed", type=int, default=2021)
    if data_set:
        parser.add_argument("--regenerate", action="store_true", help="generate the data again")
    doc_help = "Markdown file to update" if doc else f"Markdown file to write (default {DOC})"
    parser.add_argument("--doc", type=Path, default=doc, help=doc_help)
    parser.add_argument("--no-doc", action="store_true", help="print only; leave the doc alone")
    parser.add_argument(
        "--hrdata",
        default=str(Path(sys.executable).parent / "hrdata"),
        help="the hrdata command (default: the one next to this Python)",
    )


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
    add_common_arguments(parser, database="hrdata_bench")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.rows < 1:
        parser.error("--repeat and --rows must be positive")
    return args


def run_benchmark(
    args: argparse.Namespace,
    measure: Callable[[str], R],
    report: Callable[[R, str], str],
    markers: tuple[str, str] = (START, END),
) -> int:
    """Recreate the benchmark's database, measure on it, print the doc section and write it
    (unless --no-doc); the exit status: 1 when the benchmark failed."""
    url = recreate_database(args.server_url, args.database)
    print(f"== database {args.database} (re)created on {args.server_url}", flush=True)
    try:
        results = measure(url)
    except BenchmarkFailed as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    section = report(results, url)
    print(section)
    if not args.no_doc:
        write_section(args.doc, section, markers)
        print(f"== {_relative(args.doc)} updated")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def report(results: Results, url: str) -> str:
        save_raw(results)
        return migration_section(results, args, url)

    return run_benchmark(args, lambda url: benchmark(args, url, [args.hrdata]), report)


if __name__ == "__main__":
    sys.exit(main())
