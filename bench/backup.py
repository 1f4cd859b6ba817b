"""Backup benchmark: `hrdata backup` and `hrdata restore` against pg_dump and pg_restore.

On one server and one table (hired_employees created with hrdata's own DDL and loaded with the
clean rows of bench/generate.py's data set), it times, interleaved:
- `pg_dump -Fc -t hired_employees` against `hrdata backup --tables hired_employees`;
- pg_restore of that dump, three ways (the table recreated with its keys, all in one
  transaction; data only into the emptied table, triggers disabled; data only, triggers firing)
  against `hrdata restore hired_employees` into the emptied table;
each as a subprocess, with its wall time and its own peak RSS, and the table's contents checked
against the original after every restore. The figures go to the `## Backup` section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg

import figures
import harness
from figures import Series
from harness import MB, ROOT, BenchmarkFailed, Dataset
from hrdata.assembly import init_schema

HOME = harness.DATA / "hrdata-home-backup"
DUMP = harness.DATA / "backup-pg_dump.dump"
START, END = figures.markers("backup")
TABLE = "hired_employees"

TARGET_BACKUP = 0.5  # hrdata backup rows/s at least half of pg_dump's.
TARGET_RESTORE = 0.4  # hrdata restore rows/s at least 0.4x the full pg_restore's.
TARGET_RSS_MB = 300  # for each hrdata command.

# What a timed run starts from: the table as loaded, emptied, or dropped.
KEPT, EMPTIED, DROPPED = "kept", "emptied", "dropped"


@dataclass
class Measured(Series):
    """Runs of one command: seconds, peak RSS, the size of its file, and how many runs had to
    start while other processes kept the machine busy."""

    command: str = ""
    file_bytes: int = 0
    busy_starts: int = 0


@dataclass
class Results:
    data: Dataset
    rows: int
    table_bytes: int
    pg_dump_version: str
    pg_dump: Measured
    hrdata_backup: Measured
    restore_full: Measured
    restore_data_only: Measured
    restore_triggers: Measured
    hrdata_restore: Measured
    codecs: dict[str, tuple[Measured, Measured]] = field(default_factory=dict)

    def series(self) -> dict[str, Measured]:
        return {
            "pg_dump": self.pg_dump,
            "hrdata_backup": self.hrdata_backup,
            "pg_restore_full": self.restore_full,
            "pg_restore_data_only": self.restore_data_only,
            "pg_restore_data_only_triggers": self.restore_triggers,
            "hrdata_restore": self.hrdata_restore,
        }


# --- the server's own tools --------------------------------------------------------------------


def server_major(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()
    assert row is not None
    return int(row[0]) // 10000


def pg_tool(name: str, major: int, bin_dir: Path | None) -> tuple[str, str]:
    """The path and `--version` of `name` (pg_dump, pg_restore) of the server's major version:
    from `bin_dir`, else /usr/lib/postgresql/<major>/bin, else PATH."""
    candidates = [bin_dir / name] if bin_dir else []
    candidates.append(Path(f"/usr/lib/postgresql/{major}/bin/{name}"))
    on_path = shutil.which(name)
    candidates += [Path(on_path)] if on_path else []
    for candidate in candidates:
        if candidate.is_file():
            version = subprocess.run(
                [str(candidate), "--version"], capture_output=True, text=True, check=True
            ).stdout.strip()
            found = re.search(r"\) (\d+)", version)
            if found and int(found.group(1)) == major:
                return str(candidate), version
    tried = ", ".join(map(str, candidates))
    raise BenchmarkFailed(f"no {name} of PostgreSQL {major} (tried {tried})")


@dataclass
class Commands:
    """Every command timed, as run."""

    pg_dump: str
    pg_restore: str
    hrdata: str
    url: str

    @property
    def backups(self) -> Path:
        return HOME / "backups"

    def dump(self) -> list[str]:
        return [self.pg_dump, "-Fc", "-t", TABLE, "-f", str(DUMP), "-d", self.url]

    def restore_full(self) -> list[str]:
        return [self.pg_restore, "--single-transaction", "-d", self.url, str(DUMP)]

    def restore_data_only(self, triggers: bool) -> list[str]:
        disable = [] if triggers else ["--disable-triggers"]
        only = ["--data-only", "--single-transaction", *disable, "-t", TABLE]
        return [self.pg_restore, *only, "-d", self.url, str(DUMP)]

    def backup(self, codec: str | None = None) -> list[str]:
        chosen = ["--codec", codec] if codec else []
        return [self.hrdata, "backup", "--tables", TABLE, "--to", str(self.backups), *chosen]

    def restore(self, backup_id: str) -> list[str]:
        where = ["--backup", backup_id, "--from", str(self.backups)]
        return [self.hrdata, "restore", TABLE, *where]

    def shown(self, command: list[str]) -> str:
        """`command` as the report shows it: paths and the connection string shortened."""
        short = {
            self.url: "DB",
            str(DUMP): "FILE",
            str(self.backups): "DIR",
            self.pg_dump: "pg_dump",
            self.pg_restore: "pg_restore",
            self.hrdata: "hrdata",
        }
        return " ".join(short.get(part, part) for part in command)


# --- the table ---------------------------------------------------------------------------------


def load(url: str, data: Dataset) -> None:
    """hrdata's schema, the reference tables, then the clean employees (untimed)."""
    with psycopg.connect(url) as conn:
        init_schema(conn)  # every table exactly as hrdata creates it
        harness.load_parents(conn, data.path)
        conn.commit()
    with psycopg.connect(url) as conn:
        # The rows are clean: skip the per-row reference triggers, then check them in bulk.
        conn.execute("SET session_replication_role = replica")
        harness.copy_file(conn, TABLE, data.path / "hired_employees.clean.tsv")
        orphans = conn.execute(
            "SELECT count(*) FROM hired_employees e "
            "WHERE NOT EXISTS (SELECT FROM departments d WHERE d.id = e.department_id) "
            "OR NOT EXISTS (SELECT FROM jobs j WHERE j.id = e.job_id)"
        ).fetchone()
        if orphans != (0,):
            raise BenchmarkFailed(f"{orphans} clean rows point at missing departments or jobs")
        conn.commit()


def table_bytes(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_table_size('hired_employees')").fetchone()
    assert row is not None
    return int(row[0])


def prepare(url: str, state: str, settle: float) -> bool:
    """The table kept, emptied or dropped, dead rows vacuumed, hint bits set and dirty pages
    flushed, then up to `settle` seconds' wait for a quiet machine: every timed run starts
    alike. False when the machine stayed busy."""
    with psycopg.connect(url, autocommit=True) as conn:
        if state == EMPTIED:
            conn.execute("TRUNCATE hired_employees")
        elif state == DROPPED:
            conn.execute("DROP TABLE hired_employees")
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")
    busy = figures.wait_for_quiet(settle)
    if busy is not None:
        print(f"  (machine still {busy:.0%} busy: starting anyway)")
    return busy is None


# --- runs --------------------------------------------------------------------------------------


@dataclass
class Run:
    """One subprocess: wall time, its own peak RSS and what it printed."""

    seconds: float
    rss_mb: float
    stdout: str


@dataclass
class Bench:
    args: argparse.Namespace
    commands: Commands
    rows: int
    original: tuple[int, str]

    @property
    def url(self) -> str:
        return self.commands.url

    def env(self) -> dict[str, str]:
        return harness.hrdata_env(self.url, HOME)

    def timed(self, series: Measured, command: list[str], state: str) -> Run:
        """One run of `command` from `state`, added to `series`."""
        if not prepare(self.url, state, self.args.settle):
            series.busy_starts += 1
        result = run(command, self.env())
        series.seconds.append(result.seconds)
        series.rss_mb.append(result.rss_mb)
        print(
            f"  {series.label:<34} run {len(series.seconds)}: {result.seconds:6.2f} s "
            f"{self.rows / result.seconds:>11,.0f} rows/s  peak RSS {result.rss_mb:6.1f} MB",
            flush=True,
        )
        return result

    def check_restored(self, what: str) -> None:
        if harness.checksum(self.url) != self.original:
            raise BenchmarkFailed(f"hired_employees after {what} differs from the original")

    def pg_dump(self, series: Measured) -> None:
        self.timed(series, self.commands.dump(), KEPT)
        series.file_bytes = DUMP.stat().st_size

    def pg_restore(self, series: Measured, command: list[str], state: str) -> None:
        self.timed(series, command, state)
        self.check_restored(series.label)

    def hrdata_backup(self, series: Measured, codec: str | None = None) -> str:
        """One `hrdata backup`, its manifest checked; returns the backup id. Older sets are
        deleted first: one set on disk at a time."""
        shutil.rmtree(self.commands.backups, ignore_errors=True)
        result = self.timed(series, [*self.commands.backup(codec), "--json"], KEPT)
        entry = json.loads(result.stdout)["tables"][TABLE]
        if entry["rows"] != self.rows:
            raise BenchmarkFailed(f"hrdata backup wrote {entry['rows']} rows, not {self.rows}")
        series.file_bytes = entry["bytes"]
        return str(json.loads(result.stdout)["backup_id"])

    def hrdata_restore(self, series: Measured, backup_id: str) -> None:
        result = self.timed(series, [*self.commands.restore(backup_id), "--json"], EMPTIED)
        if json.loads(result.stdout)["rows"] != {TABLE: self.rows}:
            raise BenchmarkFailed(f"hrdata restore reported {result.stdout.strip()}")
        self.check_restored("hrdata restore")


def run(command: list[str], env: dict[str, str]) -> Run:
    """Run `command`, timed, with its own peak RSS; raise BenchmarkFailed if it fails."""
    out_path, err_path, rss_path = HOME / "stdout.txt", HOME / "stderr.txt", HOME / "rss.txt"
    # A child's ru_maxrss (wait4) starts from its parent's RSS at fork: it would show this
    # process's size for a smaller command. GNU time forks the command from a process of a
    # megabyte or two and reports the command's own peak (%M, in kB).
    measured = [str(GNU_TIME), "-f", "%M", "-o", str(rss_path), *command] if GNU_TIME else command
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(measured, stdout=out, stderr=err, env=env, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise BenchmarkFailed(f"{command[0]} exited with {code}: {err_path.read_text()[-2000:]}")
    rss_kb = int(rss_path.read_text().split()[-1]) if GNU_TIME else usage.ru_maxrss
    return Run(seconds, rss_kb * 1024 / MB, out_path.read_text())


def gnu_time() -> Path | None:
    """/usr/bin/time if it is GNU time (it takes -f and -o), else None."""
    path = Path("/usr/bin/time")
    if not path.is_file():
        return None
    try:
        version = subprocess.run([str(path), "--version"], capture_output=True, text=True)
    except OSError:
        return None
    return path if "GNU" in version.stdout + version.stderr else None


GNU_TIME = gnu_time()


def benchmark(args: argparse.Namespace, url: str) -> Results:
    data = harness.dataset(args.rows, args.seed, args.regenerate)
    major = server_major(url)
    pg_dump, dump_version = pg_tool("pg_dump", major, args.pg_bin)
    pg_restore, _ = pg_tool("pg_restore", major, args.pg_bin)
    commands = Commands(pg_dump, pg_restore, args.hrdata, url)
    print(f"== {dump_version}: {pg_dump}, {pg_restore}")
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)

    started = time.perf_counter()
    load(url, data)
    original = harness.checksum(url)
    rows = original[0]
    if rows != data.valid_rows:
        raise BenchmarkFailed(f"{rows} rows loaded, the generator says {data.valid_rows}")
    print(f"data: {rows:,} rows loaded in {time.perf_counter() - started:.1f} s")

    shown = commands.shown
    results = Results(
        data,
        rows,
        table_bytes(url),
        dump_version,
        Measured("pg_dump", command=shown(commands.dump())),
        Measured("hrdata backup", command=shown(commands.backup())),
        Measured("pg_restore, table recreated", command=shown(commands.restore_full())),
        Measured("pg_restore --data-only", command=shown(commands.restore_data_only(False))),
        Measured(
            "pg_restore --data-only, triggers", command=shown(commands.restore_data_only(True))
        ),
        Measured("hrdata restore", command=shown(commands.restore("ID"))),
    )
    bench = Bench(args, commands, rows, original)
    for _ in range(args.repeat):
        bench.pg_dump(results.pg_dump)
        backup_id = bench.hrdata_backup(results.hrdata_backup)
        bench.pg_restore(results.restore_full, commands.restore_full(), DROPPED)
        bench.pg_restore(results.restore_data_only, commands.restore_data_only(False), EMPTIED)
        if args.triggers:
            bench.pg_restore(results.restore_triggers, commands.restore_data_only(True), EMPTIED)
        bench.hrdata_restore(results.hrdata_restore, backup_id)
    for codec in args.codecs:
        pair = Measured(f"hrdata backup --codec {codec}"), Measured(f"hrdata restore ({codec})")
        bench.hrdata_restore(pair[1], bench.hrdata_backup(pair[0], codec))
        results.codecs[codec] = pair
    if args.py_spy:
        profile(bench, args.py_spy)
    return results


def profile(bench: Bench, py_spy: str) -> None:
    """One more backup and restore, each under `py-spy record` (untimed; raw profiles)."""
    backups = bench.commands.backups
    shutil.rmtree(backups, ignore_errors=True)
    for name, state in (("backup", KEPT), ("restore", EMPTIED)):
        prepare(bench.url, state, 0)
        out = harness.DATA / f"backup-profile-{name}.txt"
        spy = [py_spy, "record", "--format", "raw", "--rate", "200", "-o", str(out), "--"]
        if name == "backup":
            run([*spy, *bench.commands.backup()], bench.env())
        else:
            backup_id = next(p.name for p in backups.iterdir() if p.is_dir())
            run([*spy, *bench.commands.restore(backup_id)], bench.env())
        print(f"  py-spy profile of hrdata {name}: {harness.relative(out)}")
    bench.check_restored("the profiled hrdata restore")


# --- the report --------------------------------------------------------------------------------


def _mb(size: int) -> str:
    return f"{size / MB:.1f}" if size else "—"


def _row(label: str, series: Measured, rows: int, baseline: Measured) -> str:
    throughput = rows / series.median
    return (
        f"| {label} | {series.best:.2f} / {series.median:.2f} | {throughput:,.0f} "
        f"| {baseline.median / series.median:.2f}x | {series.peak_rss:.0f} "
        f"| {_mb(series.file_bytes)} |"
    )


def backup_section(results: Results, args: argparse.Namespace, url: str) -> str:
    """The `## Backup` section of docs/benchmarks.md, markers included."""
    r, rows = results, results.rows
    dump, full = r.pg_dump, r.restore_full
    backup_ratio = dump.median / r.hrdata_backup.median
    restore_ratio = full.median / r.hrdata_restore.median
    backup_rss, restore_rss = r.hrdata_backup.peak_rss or 0, r.hrdata_restore.peak_rss or 0
    triggers = bool(r.restore_triggers.seconds)
    table = [
        "| run | seconds (min / median) | rows/s (median) | throughput vs baseline "
        "| peak RSS (MB) | file (MB) |",
        "|---|---|---|---|---|---|",
        _row("`pg_dump -Fc -t hired_employees` (**baseline**)", dump, rows, dump),
        _row("`hrdata backup --tables hired_employees`", r.hrdata_backup, rows, dump),
        _row("`pg_restore`, table recreated, keys added (**baseline**)", full, rows, full),
        _row("`pg_restore --data-only --disable-triggers`", r.restore_data_only, rows, full),
    ]
    if triggers:
        table.append(_row("`pg_restore --data-only`", r.restore_triggers, rows, full))
    table.append(_row("`hrdata restore hired_employees`", r.hrdata_restore, rows, full))
    busy = sum(s.busy_starts for s in r.series().values())
    lines = [
        *figures.heading(START, "Backup", "`bench/backup.py`"),
        f"- Server: {figures.server(url)}, on the same machine; client tools {r.pg_dump_version}",
        f"- Data: the {rows:,} clean rows of `bench/generate.py --rows {r.data.rows} --seed "
        f"{args.seed}` in hired_employees, created with hrdata's DDL (primary key, CHECKs, two "
        f"foreign keys); {r.table_bytes / MB:.0f} MB on disk (`pg_table_size`)",
        f"- Runs: {args.repeat} of each, interleaved; before each `VACUUM (ANALYZE)`, "
        f"`CHECKPOINT` and a wait (up to {args.settle:g} s) for a quiet machine; every restore "
        "ends checked against the original: row count and md5 of every row in id order"
        + (f"; {busy} run(s) started on a busy machine anyway" if busy else ""),
        "",
        *table,
        "",
        "The commands, each run as a subprocess against the same database (`DB`):",
        "",
        f"- `{dump.command}`: pg_dump's custom format, compressed at its default level;",
        f"- `{r.hrdata_backup.command}`: one AVRO file (deflate, hrdata's default codec) and a "
        "manifest, from one `REPEATABLE READ` snapshot;",
        f"- `{full.command}` into the database after `DROP TABLE hired_employees` (untimed): "
        "creates the table, `COPY`s the rows, builds the primary key and adds both foreign "
        "keys, validated in bulk, all in one transaction: the end state of `hrdata restore`, "
        "and the baseline of the restores;",
        f"- `{r.restore_data_only.command}` into the emptied table (`TRUNCATE`, untimed): "
        "`COPY` with the primary key index maintained row by row and the foreign key triggers "
        "disabled, nothing checked in their place;",
    ]
    if triggers:
        lines.append(
            f"- `{r.restore_triggers.command}` into the emptied table: the same with every "
            "row's foreign keys checked by their triggers, pg_restore's default;"
        )
    lines += [
        f"- `{r.hrdata_restore.command}` into the emptied table: verifies the file (size, "
        "sha256, schema, row count), then in one transaction locks and empties the table, "
        "`COPY`s the rows (primary key index maintained, per-row reference triggers skipped) "
        "and checks every reference in bulk.",
        "",
        "Seconds are wall time, start-up included; rows/s is rows over the median seconds; the "
        "throughput ratio is the baseline's median seconds over the run's. Peak RSS is each "
        "command's own, "
        + (
            "from GNU time (`%M`): `wait4` from the benchmark's process would report at least "
            "the benchmark's own size, a child's peak starting from its parent's RSS at fork."
            if GNU_TIME
            else "from `wait4`: at least the benchmark's own size (no GNU time here)."
        ),
    ]
    if r.codecs:
        lines += [
            "",
            "hrdata with the other AVRO codecs, one run each:",
            "",
            "| codec | backup s | restore s | backup / restore peak RSS (MB) | file (MB) |",
            "|---|---|---|---|---|",
        ]
        for codec, (b, rest) in r.codecs.items():
            lines.append(
                f"| {codec} | {b.median:.2f} | {rest.median:.2f} "
                f"| {b.peak_rss:.0f} / {rest.peak_rss:.0f} | {_mb(b.file_bytes)} |"
            )
    lines += [
        "",
        "Targets:",
        "",
        f"- `hrdata backup` ≥ {TARGET_BACKUP}x the throughput of `pg_dump`: {backup_ratio:.2f}x "
        f"— {figures.met(backup_ratio >= TARGET_BACKUP)}",
        f"- `hrdata restore` ≥ {TARGET_RESTORE}x the throughput of the full `pg_restore`: "
        f"{restore_ratio:.2f}x — {figures.met(restore_ratio >= TARGET_RESTORE)}",
        f"- peak RSS < {TARGET_RSS_MB} MB: backup {backup_rss:.0f} MB, restore "
        f"{restore_rss:.0f} MB — {figures.met(max(backup_rss, restore_rss) < TARGET_RSS_MB)}",
        END,
    ]
    return "\n".join(lines)


def save_raw(results: Results, path: Path) -> Path:
    """Every measurement as JSON."""
    raw = {
        "rows": results.rows,
        "table_bytes": results.table_bytes,
        "pg_dump_version": results.pg_dump_version,
        "runs": {name: asdict(series) for name, series in results.series().items()},
        "codecs": {
            codec: {"backup": asdict(b), "restore": asdict(r)}
            for codec, (b, r) in results.codecs.items()
        },
    }
    path.write_text(json.dumps(raw, indent=2) + "\n")
    return path


# --- command line ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="lines of the data set")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timing")
    parser.add_argument(
        "--codecs",
        type=lambda text: [c for c in text.split(",") if c],
        default=["null", "snappy", "zstandard"],
        help="other codecs for hrdata, one run each, comma-separated ('' for none)",
    )
    parser.add_argument(
        "--no-triggers",
        dest="triggers",
        action="store_false",
        help="skip the slow data-only pg_restore with per-row foreign key triggers",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=60,
        help="seconds to wait at most, before each run, for the machine to be quiet",
    )
    parser.add_argument(
        "--pg-bin", type=Path, help="folder of pg_dump and pg_restore (default: the server's)"
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=harness.DATA / "backup-results.json",
        help="where to write every measurement as JSON",
    )
    harness.add_common_arguments(
        parser,
        database="hrdata_bench_backup",
        py_spy="profile one more backup and restore "
        "(raw profiles in bench/data/backup-profile-*.txt)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.rows < 1:
        parser.error("--repeat and --rows must be positive")
    unknown = set(args.codecs) - {"null", "deflate", "snappy", "zstandard"}
    if unknown:
        parser.error(f"unknown codecs: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def report(results: Results, url: str) -> str:
        print(f"== raw results in {harness.relative(save_raw(results, args.results))}")
        return backup_section(results, args, url)

    return harness.run_benchmark(args, lambda url: benchmark(args, url), report, (START, END))


if __name__ == "__main__":
    sys.exit(main())
