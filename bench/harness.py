"""What every benchmark sets up before it measures: its paths, the generated data set, its
database, hrdata as a subprocess (`hrdata serve` included), its options and its run."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

import figures
import generate
from hrdata.assembly import init_schema

ROOT = figures.ROOT
DATA = ROOT / "bench" / "data"
DOC = ROOT / "docs" / "benchmarks.md"
R = TypeVar("R")  # what a benchmark measured
COPY_CHUNK = 1 << 20
MB = 1024 * 1024


class BenchmarkFailed(Exception):
    """hrdata did not do what the generator says it must: the figures would mean nothing."""


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


# --- the data set ------------------------------------------------------------------------------


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


def dataset(rows: int, seed: int, regenerate: bool) -> Dataset:
    """The data set of `rows` lines under bench/data, generated unless already there."""
    folder = DATA / size_name(rows)
    expected_file = folder / "expected.json"
    args = generate.parse_args(["--rows", str(rows), "--out", str(folder), "--seed", str(seed)])
    if not regenerate and expected_file.exists():
        expected = json.loads(expected_file.read_text())
        wanted = {"generator_version": generate.GENERATOR_VERSION, "rows": rows, "seed": seed}
        files = ("hired_employees.csv", "hired_employees.clean.tsv", "departments.csv", "jobs.csv")
        complete = all((folder / name).exists() for name in files)
        if complete and all(expected.get(key) == value for key, value in wanted.items()):
            print(f"data: reusing {relative(folder)} ({rows:,} rows)")
            return Dataset(folder, expected)
    print(f"data: generating {rows:,} rows into {relative(folder)}...", flush=True)
    started = time.perf_counter()
    expected = generate.generate(args)
    print(f"data: generated in {time.perf_counter() - started:.1f} s")
    return Dataset(folder, expected)


def size_name(rows: int) -> str:
    """2000000 -> 2m, 20000 -> 20k: the folder of a data set, and how a report names it."""
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}m"
    return f"{rows // 1000}k" if rows % 1000 == 0 else str(rows)


# --- the database ------------------------------------------------------------------------------


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


def load_parents(conn: psycopg.Connection, folder: Path) -> None:
    """departments and jobs COPYed from `folder`'s CSV files (untimed: a few hundred rows)."""
    for name in ("departments", "jobs"):
        statement = sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(name))
        with conn.cursor().copy(statement) as copy:
            for row in generate.read_reference(folder / f"{name}.csv"):
                copy.write_row(row)


def prepare_database(url: str) -> None:
    """Every hrdata table, created by hrdata's own DDL; departments and jobs of the challenge."""
    with psycopg.connect(url) as conn:
        init_schema(conn)
        load_parents(conn, generate.CHALLENGE)
        conn.commit()


def table_count(url: str, name: str = "hired_employees") -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name)))
        found = row.fetchone()
    assert found is not None
    return int(found[0])


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


def checksum(url: str) -> tuple[int, str]:
    """Row count and md5 of every hired_employees row as text, in id order (datetimes in UTC)."""
    with psycopg.connect(url) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        row = conn.execute(
            "SELECT count(*), md5(string_agg(e::text, E'\\n' ORDER BY id)) FROM hired_employees e"
        ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


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


# --- hrdata as a subprocess --------------------------------------------------------------------


def hrdata_env(url: str, home: Path) -> dict[str, str]:
    """This process's environment without the caller's HRDATA_* settings (they would change the
    figures), pointed at the benchmark's database and home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HRDATA_")}
    return env | {"HRDATA_DATABASE_URL": url, "HRDATA_HOME": str(home)}


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by the server process (all its threads) and the
        processes it started (uvicorn workers, if any)."""
        return sum(map(figures.process_cpu_seconds, figures.process_tree(self.process.pid)))


@contextmanager
def serve(command: list[str], url: str, home: Path, workers: int) -> Iterator[Server]:
    """`hrdata serve --workers N` on a free port of 127.0.0.1, logging to `home`/serve.log, once
    /ready answers; stopped afterwards."""
    port = free_port()
    log_path = home / "serve.log"
    arguments = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, *arguments],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=hrdata_env(url, home),
            cwd=ROOT,
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_ready(process, base_url, log_path, 60)
        yield Server(process, base_url, log_path)
    finally:
        process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_ready(process: subprocess.Popen[bytes], base_url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base_url, timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise BenchmarkFailed(f"hrdata serve exited with {process.returncode}: {tail}")
            try:
                if client.get("/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise BenchmarkFailed(f"hrdata serve not ready after {timeout:.0f} s (see {log})")


def run_hrdata(command: list[str], url: str, home: Path, *arguments: str) -> tuple[float, Any]:
    """An hrdata command to completion: its wall time in seconds and its JSON output."""
    started = time.perf_counter()
    done = subprocess.run(
        [*command, *arguments],
        capture_output=True,
        text=True,
        env=hrdata_env(url, home),
        cwd=ROOT,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchmarkFailed(
            f"hrdata {' '.join(arguments)} exited with {done.returncode}: {done.stderr[-2000:]}"
        )
    return seconds, json.loads(done.stdout)


def create_key(command: list[str], url: str, home: Path, role: str, name: str) -> str:
    """A key of `role` named `name`, made by `hrdata keys create`; its token."""
    done = subprocess.run(
        [*command, "keys", "create", "--role", role, "--name", name],
        capture_output=True,
        text=True,
        env=hrdata_env(url, home),
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise BenchmarkFailed(f"hrdata keys create exited with {done.returncode}: {done.stderr}")
    return done.stdout.strip()


@contextmanager
def profiling(py_spy: str | None, pid: int, out: Path) -> Iterator[None]:
    """py-spy recording process `pid` into `out` while the block runs, when asked for."""
    if not py_spy:
        yield
        return
    record = ["record", "--pid", str(pid), "--rate", "250", "--format", "raw", "--threads"]
    recorder = subprocess.Popen(
        [py_spy, *record, "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)  # py-spy attaches
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        try:
            recorder.wait(60)
        except subprocess.TimeoutExpired:
            recorder.kill()
            recorder.wait()
        print(f"  py-spy profile of the server: {relative(out)}")


# --- command line and run ----------------------------------------------------------------------


def add_common_arguments(
    parser: argparse.ArgumentParser,
    *,
    database: str,
    doc: Path | None = DOC,
    data_set: bool = True,
    py_spy: str | None = None,
) -> None:
    """The options every benchmark takes: its server and database, the data's seed (and
    --regenerate when it reads a generated data set), its doc, the hrdata command, and --py-spy
    where `py_spy` says what it records."""
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
    if py_spy:
        parser.add_argument("--py-spy", metavar="PATH", help=f"py-spy executable: {py_spy}")


def run_benchmark(
    args: argparse.Namespace,
    measure: Callable[[str], R],
    report: Callable[[R, str], str],
    markers: tuple[str, str],
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
        figures.write_section(args.doc, section, markers)
        print(f"== {relative(args.doc)} updated")
    return 0
