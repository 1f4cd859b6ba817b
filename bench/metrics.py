"""Metrics benchmark: the two hiring metrics at 2,000,000 rows, and what keeping them current costs.

On one server and the migration benchmark's data set (bench/generate.py, `hrdata migrate`ed), it
measures:
- the plain SQL baseline: both metrics computed from hired_employees itself
  (`source=counts.RECOUNTED`), against the same queries on the hire counts the triggers keep;
- both metrics through a real `hrdata serve --workers 2`: JSON and CSV, p50 and p99;
- the same while another thread posts 1,000-row batches through the API, every answer checked
  to count every row acknowledged before it was asked for (no stale answer);
- the triggers' cost: API batches and `hrdata migrate` with the counts triggers and without.
The figures go to the `## Metrics` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

import api
import figures
import harness
from figures import QUIET_CPU
from harness import BenchmarkFailed, Dataset
from hrdata.assembly import init_schema
from hrdata.metrics import counts, departments_against_mean, hires_by_quarter

HOME = harness.DATA / "hrdata-home-metrics"
PROFILE = harness.DATA / "api-profile-metrics-reads.txt"  # --py-spy
START, END = figures.markers("metrics")
TABLE = "hired_employees"
YEAR = 2021
MEAN_OVER = "all"
BY_QUARTER = "hires_by_quarter"
ABOVE_MEAN = "departments_above_mean"
PATHS = {
    BY_QUARTER: f"/v1/metrics/hires-by-quarter?year={YEAR}",
    ABOVE_MEAN: f"/v1/metrics/departments-above-mean?year={YEAR}&mean_over={MEAN_OVER}",
}
# Every trigger of the hire counts (src/hrdata/metrics/counts.py): the "without" phases turn
# them all off; they are created ENABLE ALWAYS, so they are turned back on the same way.
TRIGGERS = (
    (TABLE, "hire_counts_inserted"),
    (TABLE, "hire_counts_deleted"),
    (TABLE, "hire_counts_updated"),
    (TABLE, "hire_counts_truncated"),
    ("departments", "hire_counts_names"),
    ("jobs", "hire_counts_names"),
)
STREAM_FIRST_ID = 10_000_001  # Above every id of the generated files.

TARGET_P50_MS = 25.0  # API p50 per metric request at 2,000,000 rows.
TARGET_INSERT_SLOWDOWN = 1.10  # API batches at most 10% slower with the counts triggers.


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Timing:
    """Repeated timings of one thing, in milliseconds."""

    label: str
    ms: list[float] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return figures.p50(self.ms)

    @property
    def p99(self) -> float:
        return figures.p99(self.ms)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.ms)

    def summary(self) -> dict[str, float]:
        return {
            "n": len(self.ms),
            "p50": self.p50,
            "p99": self.p99,
            "mean": self.mean,
            "min": min(self.ms),
            "max": max(self.ms),
        }

    def show(self, extra: str = "") -> None:
        print(
            f"  {self.label:<46} p50 {self.p50:7.1f} ms  p99 {self.p99:7.1f}  mean "
            f"{self.mean:7.1f}  min {min(self.ms):7.1f}  max {max(self.ms):7.1f}  "
            f"(n={len(self.ms)}){extra}",
            flush=True,
        )


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


@dataclass
class Quiet:
    """Waits, before each measurement, up to `limit` seconds for the machine to be quiet (other
    work on the same cores skews every figure); remembers the measurements that started busy."""

    limit: float
    busy_starts: list[str] = field(default_factory=list)
    waits: int = 0

    def __call__(self, what: str) -> None:
        self.waits += 1
        busy = figures.wait_for_quiet(self.limit)
        if busy is not None:
            print(f"  (machine still {busy:.0%} busy: {what} starts anyway)", flush=True)
            self.busy_starts.append(what)


# --- database ----------------------------------------------------------------------------------


def set_count_triggers(url: str, enabled: bool) -> None:
    """Every hire-counts trigger on (ENABLE ALWAYS, as created) or off; checked in pg_trigger."""
    action = "ENABLE ALWAYS TRIGGER" if enabled else "DISABLE TRIGGER"
    with psycopg.connect(url) as conn:
        for table_name, trigger in TRIGGERS:
            conn.execute(
                sql.SQL("ALTER TABLE {} {} {}").format(
                    sql.Identifier(table_name), sql.SQL(action), sql.Identifier(trigger)
                )
            )
        states = conn.execute(
            "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger "
            "WHERE tgname LIKE 'hire_counts%%'"
        ).fetchall()
    wanted = "A" if enabled else "D"
    wrong = [f"{t}.{name}={state}" for t, name, state in states if state != wanted]
    if len(states) != len(TRIGGERS) or wrong:
        raise BenchmarkFailed(f"counts triggers not all {wanted}: {states}")


def counted_hires(url: str) -> int:
    """The total of hire_counts and its deltas: what the metrics' data.hired_employees reports."""
    with psycopg.connect(url) as conn:
        return counts.state(conn)[0]


def delta_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM hire_count_deltas").fetchone()
    return int(row[0]) if row else 0


def fold_and_vacuum(url: str) -> int:
    """Deltas folded into hire_counts, then every table vacuumed and analysed and the dirty pages
    flushed: the state a service that has run a while keeps. The delta rows moved."""
    with psycopg.connect(url, autocommit=True) as conn:
        moved = counts.fold(conn)
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")
    return moved


# --- cost on the migration ---------------------------------------------------------------------


@dataclass
class MigrationRun:
    triggers: bool
    seconds: float
    fingerprint: tuple[Any, ...]
    counted: int


def run_migration(
    command: list[str], url: str, data: Dataset, triggers: bool, quiet: Quiet
) -> float:
    """`hrdata migrate DIR --json --quiet` into an empty schema built by hrdata's DDL, the
    counts triggers on or off; its wall time, its summary checked against the generator's."""
    harness.reset(url)
    with psycopg.connect(url) as conn:
        init_schema(conn)
    if not triggers:
        set_count_triggers(url, enabled=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM")
        conn.execute("CHECKPOINT")
    quiet(f"migration, triggers {_on(triggers)}")
    arguments = ("migrate", str(data.path), "--json", "--quiet")
    seconds, summary = harness.run_hrdata(command, url, HOME, *arguments)
    harness.verify(summary, data.expected)
    return seconds


def migrations(
    command: list[str], url: str, data: Dataset, repeat: int, quiet: Quiet
) -> tuple[Timing, Timing]:
    """`repeat` migrations without the triggers and with them, interleaved, the last with them:
    it leaves the 2,000,000 rows and their counts for the read measurements."""
    with_, without = Timing("hrdata migrate, counts triggers on"), Timing("... off")
    plan = [False, True] * repeat or [True]
    fingerprints: set[tuple[Any, ...]] = set()
    for triggers in plan:
        seconds = run_migration(command, url, data, triggers, quiet)
        fingerprint = harness.fingerprint(url)
        fingerprints.add(fingerprint)
        if len(fingerprints) != 1:
            raise BenchmarkFailed("hired_employees differs between migrations")
        counted = counted_hires(url)
        wanted = fingerprint[0] if triggers else 0
        if counted != wanted:
            state = "on" if triggers else "off"
            raise BenchmarkFailed(f"triggers {state}: {counted} hires counted, expected {wanted}")
        if repeat:
            (with_ if triggers else without).ms.append(seconds * 1000)
            print(
                f"  hrdata migrate, triggers {'on ' if triggers else 'off'}: {seconds:6.2f} s  "
                f"{data.valid_rows / seconds:>10,.0f} rows/s",
                flush=True,
            )
    return with_, without


# --- reads: direct SQL -------------------------------------------------------------------------


def _by_quarter_rows(conn: psycopg.Connection, source: sql.Composable) -> list[list[Any]]:
    return [
        [q.department_id, q.department, q.job_id, q.job, q.q1, q.q2, q.q3, q.q4]
        for q in hires_by_quarter(conn, YEAR, source)
    ]


def _above_mean(
    conn: psycopg.Connection, source: sql.Composable
) -> tuple[float | None, list[list[Any]]]:
    against = departments_against_mean(conn, YEAR, MEAN_OVER, source)
    return against.mean, [[d.id, d.department, d.hired] for d in against.above]


def _metric(kind: str) -> Callable[[psycopg.Connection, sql.Composable], Any]:
    return _by_quarter_rows if kind == BY_QUARTER else _above_mean


def time_sql(
    url: str, source: sql.Composable, label: str, runs: int, warmup: int = 1, prepare: bool = True
) -> dict[str, Timing]:
    """Both metrics run `runs` times each, alternately, from `source`, after `warmup` untimed
    runs of each; one autocommit connection, as the query functions are called. `prepare`:
    psycopg's default, as in the API (a query run 5 times is prepared from then on, and the
    server may then choose a generic plan); else never prepared (a custom plan every time)."""
    timings = {kind: Timing(f"{label}: {kind}") for kind in PATHS}
    threshold = {} if prepare else {"prepare_threshold": None}
    with psycopg.connect(url, autocommit=True, **threshold) as conn:
        for n in range(warmup + runs):
            for kind, timing in timings.items():
                started = time.perf_counter()
                _metric(kind)(conn, source)
                if n >= warmup:
                    timing.ms.append(_elapsed_ms(started))
    for timing in timings.values():
        timing.show()
    return timings


def recounted_answers(url: str) -> dict[str, Any]:
    """Both metrics computed from hired_employees itself, in the API's JSON shapes."""
    with psycopg.connect(url, autocommit=True) as conn:
        mean, above = _above_mean(conn, counts.RECOUNTED)
        return {BY_QUARTER: _by_quarter_rows(conn, counts.RECOUNTED), ABOVE_MEAN: (mean, above)}


def check_answers(client: httpx.Client, url: str, when: str) -> None:
    """Raise BenchmarkFailed unless both API answers equal the metrics recounted from the rows."""
    wanted = recounted_answers(url)
    quarters = client.get(PATHS[BY_QUARTER]).json()["rows"]
    got_quarters = [
        [r[c] for c in ("department_id", "department", "job_id", "job", "Q1", "Q2", "Q3", "Q4")]
        for r in quarters
    ]
    if got_quarters != wanted[BY_QUARTER]:
        raise BenchmarkFailed(f"{when}: hires-by-quarter differs from the recount")
    above = client.get(PATHS[ABOVE_MEAN]).json()
    mean, rows = wanted[ABOVE_MEAN]
    got_rows = [[r["id"], r["department"], r["hired"]] for r in above["rows"]]
    if got_rows != rows or not math.isclose(above["mean"] or 0.0, mean or 0.0, rel_tol=1e-12):
        raise BenchmarkFailed(f"{when}: departments-above-mean differs from the recount")


# --- reads: the API ----------------------------------------------------------------------------


@contextmanager
def read_client(base_url: str, token: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        yield client


def get_metric(client: httpx.Client, path: str, as_csv: bool) -> tuple[float, int]:
    """One metrics request: milliseconds to the answer's last byte, and the hired_employees rows
    it says it reflects (its body's data.hired_employees, checked against X-Data-Rows)."""
    target = path + "&format=csv" if as_csv else path
    started = time.perf_counter()
    response = client.get(target)  # reads the whole body
    ms = _elapsed_ms(started)
    if response.status_code != 200:
        raise BenchmarkFailed(f"GET {target}: HTTP {response.status_code}: {response.text[:500]}")
    header = int(response.headers["X-Data-Rows"])
    if as_csv:
        if not response.headers["content-type"].startswith("text/csv"):
            raise BenchmarkFailed(f"GET {target}: {response.headers['content-type']}, not CSV")
        return ms, header
    rows = int(response.json()["data"]["hired_employees"])
    if rows != header:
        raise BenchmarkFailed(f"GET {target}: data.hired_employees {rows}, X-Data-Rows {header}")
    return ms, rows


def time_api(
    client: httpx.Client, server: harness.Server, requests: int, warmup: int, rows: int
) -> tuple[dict[str, Timing], dict[str, float]]:
    """Both metrics as JSON and as CSV, `requests` times each, round-robin, after `warmup`
    untimed rounds; every answer must reflect exactly `rows` rows. Timings, and the server's CPU
    milliseconds per request."""
    kinds = [(kind, as_csv) for as_csv in (False, True) for kind in PATHS]
    timings = {
        (kind, as_csv): Timing(f"API {'CSV ' if as_csv else 'JSON'}: {kind}")
        for kind, as_csv in kinds
    }
    for _ in range(warmup):
        for kind, as_csv in kinds:
            get_metric(client, PATHS[kind], as_csv)
    cpu_before = server.cpu_seconds()
    for _ in range(requests):
        for kind, as_csv in kinds:
            ms, reflected = get_metric(client, PATHS[kind], as_csv)
            if reflected != rows:
                raise BenchmarkFailed(f"{kind}: answer reflects {reflected} rows, not {rows}")
            timings[(kind, as_csv)].ms.append(ms)
    cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / (requests * len(kinds))
    for timing in timings.values():
        timing.show()
    print(f"  API server CPU {cpu_ms:.1f} ms per request (both workers)", flush=True)
    named = {f"{'csv' if c else 'json'}_{k}": t for (k, c), t in timings.items()}
    return named, {"server_cpu_ms_per_request": cpu_ms}


# --- reads while writing -----------------------------------------------------------------------


@dataclass
class Current:
    """Reads while another thread posts batches, and the checks that no answer was stale."""

    timings: dict[str, Timing]
    batches: int = 0
    write_seconds: float = 0.0
    exact_checks: int = 0  # after a POST returned, the next answer's rows = the exact count
    count_checks: int = 0  # ... of which also compared with a fresh count(*)
    bound_checks: int = 0  # reads during writes: acknowledged <= reflected <= sent
    overlapped: int = 0  # reads during which a batch was in flight or committed
    mismatches: list[str] = field(default_factory=list)
    ran_out: bool = False

    @property
    def rows_per_second(self) -> float:
        return self.batches * api.BATCH_ROWS / self.write_seconds if self.write_seconds else 0.0


def while_writing(
    url: str,
    base_url: str,
    read_token: str,
    ingest_token: str,
    batches: list[api.Batch],
    requests: int,
    count_every: int,
) -> Current:
    """Both metrics (JSON), `requests` times each, alternately, while a writer thread posts
    `batches` back to back. After each POST returns, the writer asks for one metric and checks
    that it reflects exactly the rows in the table (the count at the start plus every
    acknowledged batch: no other writer; every `count_every`th check also against count(*)).
    Each timed read is checked to reflect at least every batch acknowledged before it was sent
    and at most those sent before its answer came."""
    base = harness.table_count(url)
    current = Current({kind: Timing(f"API JSON while writing: {kind}") for kind in PATHS})
    lock = threading.Lock()
    sent = acked = 0  # rows of the batches posted / acknowledged so far
    first_acked, reading_done, writer_done = (threading.Event() for _ in range(3))
    errors: list[BaseException] = []

    def writer() -> None:
        nonlocal sent, acked
        try:
            with (
                api.api_sender(base_url, ingest_token, idempotency=False) as send,
                read_client(base_url, read_token) as client,
                psycopg.connect(url, autocommit=True) as conn,
            ):
                started = time.perf_counter()
                for n, batch in enumerate(batches):
                    if reading_done.is_set():
                        break
                    with lock:
                        sent += batch.rows
                    send(batch)  # raises unless all 1,000 rows were inserted
                    with lock:
                        acked += batch.rows
                    current.batches += 1
                    first_acked.set()
                    expected = base + acked
                    kind = list(PATHS)[n % len(PATHS)]
                    _, reflected = get_metric(client, PATHS[kind], as_csv=False)
                    current.exact_checks += 1
                    if reflected != expected:
                        current.mismatches.append(f"{kind} after batch {n}: {reflected}/{expected}")
                    if current.exact_checks % count_every == 0:
                        row = conn.execute(
                            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(TABLE))
                        ).fetchone()
                        current.count_checks += 1
                        if row is None or row[0] != expected or row[0] != reflected:
                            current.mismatches.append(f"count(*) {row} after batch {n}")
                else:
                    current.ran_out = True
                current.write_seconds = time.perf_counter() - started
        except BaseException as exc:
            errors.append(exc)
        finally:
            first_acked.set()
            writer_done.set()

    thread = threading.Thread(target=writer, name="bench-writer", daemon=True)
    thread.start()
    first_acked.wait()
    try:
        with read_client(base_url, read_token) as client:
            for kind in list(PATHS) * requests:
                if writer_done.is_set():
                    break  # out of batches (see --stream-batches) or failed
                with lock:
                    low = base + acked
                ms, reflected = get_metric(client, PATHS[kind], as_csv=False)
                with lock:
                    high = base + sent
                current.bound_checks += 1
                current.overlapped += high > low
                if not low <= reflected <= high:
                    current.mismatches.append(f"{kind}: {reflected} not in [{low}, {high}]")
                current.timings[kind].ms.append(ms)
    finally:
        reading_done.set()
        thread.join()
    if errors:
        raise errors[0]
    final = harness.table_count(url)
    if final != base + acked:
        current.mismatches.append(f"count(*) {final} at the end, {base + acked} expected")
    for timing in current.timings.values():
        timing.show()
    print(
        f"  writer: {current.batches} batches, {current.rows_per_second:,.0f} rows/s; "
        f"{current.exact_checks} exact checks ({current.count_checks} with count(*)), "
        f"{current.bound_checks} reads checked, {current.overlapped} overlapping a write; "
        f"{len(current.mismatches)} mismatches{' (ran out of batches)' if current.ran_out else ''}",
        flush=True,
    )
    if current.mismatches:
        raise BenchmarkFailed("stale metrics: " + "; ".join(current.mismatches[:10]))
    return current


# --- cost on inserts ---------------------------------------------------------------------------


def insert_phases(
    url: str, server: harness.Server, token: str, args: argparse.Namespace, quiet: Quiet
) -> list[api.Phase]:
    """API batches at concurrency 1 and N, with the counts triggers and without, `rounds` times,
    the order of the two swapped every round (ABBA...) so drift hits both alike. Each phase
    starts on an emptied table, as bench/api.py's do; the counts are checked after each."""
    batches = api.make_batches(args.insert_batches, 1, args.seed)
    warmup = api.make_batches(args.warmup_batches, args.insert_batches * api.BATCH_ROWS + 1, 7)
    expected_rows = args.insert_batches * api.BATCH_ROWS
    phases: list[api.Phase] = []
    fingerprints: set[tuple[Any, ...]] = set()

    def run(triggers: bool, n: int, round_: int) -> None:
        api.empty_table(url, checkpoint=False)  # triggers on: the counts emptied with the table
        set_count_triggers(url, triggers)
        label = f"API, triggers {_on(triggers)}"
        phase = api.Phase(f"{_on(triggers)}_c{n}_r{round_}", label, n)
        quiet(f"insert phase {phase.key}")
        api.drive(
            phase,
            batches,
            warmup,
            lambda: api.api_sender(server.base_url, token, idempotency=False),
            lambda: api.empty_table(url, checkpoint=True),
            server.cpu_seconds,
        )
        count = harness.table_count(url)
        if count != expected_rows:
            raise BenchmarkFailed(f"{phase.key}: {count} rows in {TABLE}, {expected_rows} sent")
        fingerprints.add(harness.fingerprint(url))
        if len(fingerprints) != 1:
            raise BenchmarkFailed(f"{phase.key}: {TABLE} differs from the first phase's")
        counted = counted_hires(url)
        if counted != (count if triggers else 0):
            raise BenchmarkFailed(f"{phase.key}: {counted} hires counted for {count} rows")
        if not triggers:  # counts are stale now: on again, and emptied to match the table
            set_count_triggers(url, True)
            api.empty_table(url, checkpoint=False)
        phases.append(phase)
        api._show(phase)

    for round_ in range(args.insert_rounds):
        order = (True, False) if round_ % 2 == 0 else (False, True)
        for n in sorted({1, args.concurrency}):
            for triggers in order:
                run(triggers, n, round_)
    set_count_triggers(url, True)
    return phases


@dataclass
class InsertCost:
    """Pooled figures of the insert phases, with the counts triggers and without."""

    concurrency: int
    p50_on: float
    p50_off: float
    p99_on: float
    p99_off: float
    rows_per_second_on: float
    rows_per_second_off: float
    server_cpu_ms_on: float
    server_cpu_ms_off: float

    @property
    def latency_ratio(self) -> float:
        return self.p50_on / self.p50_off

    @property
    def throughput_ratio(self) -> float:
        """How many times longer the same rows take with the triggers: 1.10 is 10% slower."""
        return self.rows_per_second_off / self.rows_per_second_on


def insert_cost(phases: list[api.Phase], n: int) -> InsertCost:
    """Latencies pooled over the rounds; rows/s as all rows over all wall time."""

    def pooled(on: bool) -> tuple[Timing, float, float]:
        chosen = [p for p in phases if p.concurrency == n and p.key.startswith(f"{_on(on)}_")]
        timing = Timing("", [ms for p in chosen for ms in p.latencies_ms])
        rows_per_second = sum(p.rows for p in chosen) / sum(p.seconds for p in chosen)
        cpu = sum(p.server_cpu_seconds or 0.0 for p in chosen) * 1000
        return timing, rows_per_second, cpu / sum(p.batches for p in chosen)

    on, on_rate, on_cpu = pooled(True)
    off, off_rate, off_cpu = pooled(False)
    return InsertCost(n, on.p50, off.p50, on.p99, off.p99, on_rate, off_rate, on_cpu, off_cpu)


def _on(on: bool) -> str:
    return "on" if on else "off"


# --- the benchmark -----------------------------------------------------------------------------


@dataclass
class Results:
    data: Dataset
    background_busy: float
    migrate_on: Timing
    migrate_off: Timing
    deltas_after_migration: int
    counts_unfolded: dict[str, Timing]
    recounted: dict[str, Timing]
    counted: dict[str, Timing]
    unprepared: dict[str, Timing]
    api_reads: dict[str, Timing]
    api_extra: dict[str, float]
    current: Current
    insert_phases: list[api.Phase]
    insert_costs: list[InsertCost]
    busy: dict[str, float]
    quiet: Quiet
    elapsed_seconds: float = 0.0


def benchmark(args: argparse.Namespace, url: str, command: list[str]) -> Results:
    started = time.perf_counter()
    data = harness.dataset(args.rows, args.seed, args.regenerate)
    HOME.mkdir(parents=True, exist_ok=True)
    background = figures.cpu_busy()
    print(f"  machine {background:.0%} busy before the run (other processes)", flush=True)
    quiet, busy = Quiet(args.settle), {}

    print(f"== cost on the migration: {args.migrate_repeat} x 2 runs, interleaved", flush=True)
    migrate_on, migrate_off = migrations(command, url, data, args.migrate_repeat, quiet)
    rows = harness.table_count(url)

    print(f"== direct SQL on {rows:,} rows", flush=True)
    deltas = delta_rows(url)
    unfolded = time_sql(url, counts.CURRENT, f"counts, {_rows(deltas, 'delta')} unfolded", 3)
    print(f"  folded {_rows(fold_and_vacuum(url), 'delta row')}; VACUUM (ANALYZE), CHECKPOINT")
    quiet("direct SQL")
    with figures.machine_busy(busy, "direct_sql"):
        recounted = time_sql(url, counts.RECOUNTED, "plain SQL (recount)", args.sql_repeat)
        counted = time_sql(url, counts.CURRENT, "counts (triggers)", args.counts_repeat)
        unprepared = time_sql(
            url, counts.CURRENT, "counts, never prepared", args.counts_repeat, prepare=False
        )

    with harness.serve(command, url, HOME, args.workers) as server:
        read_token = harness.create_key(command, url, HOME, "read", "bench/metrics.py")
        ingest_token = harness.create_key(command, url, HOME, "ingest", "bench/metrics.py")
        print(f"== API: hrdata serve pid {server.process.pid} at {server.base_url}", flush=True)
        with read_client(server.base_url, read_token) as client:
            check_answers(client, url, "before the timed reads")
            quiet("API reads")
            with (
                harness.profiling(args.py_spy, server.process.pid, PROFILE),
                figures.machine_busy(busy, "api_reads"),
            ):
                reads, extra = time_api(client, server, args.requests, args.warmup, rows)

        print("== API reads while a thread posts 1,000-row batches", flush=True)
        stream = api.make_batches(args.stream_batches, STREAM_FIRST_ID, args.seed + 2)
        quiet("reads while writing")
        with figures.machine_busy(busy, "while_writing"):
            current = while_writing(
                url,
                server.base_url,
                read_token,
                ingest_token,
                stream,
                args.requests,
                args.count_every,
            )
        del stream
        with read_client(server.base_url, read_token) as client:
            check_answers(client, url, "after the writes")

        print(f"== cost on inserts: {args.insert_rounds} rounds, interleaved", flush=True)
        phases = insert_phases(url, server, ingest_token, args, quiet)
    costs = [insert_cost(phases, n) for n in sorted({1, args.concurrency})]
    for cost in costs:
        print(
            f"  c={cost.concurrency}: p50 {cost.p50_on:.1f} ms on / {cost.p50_off:.1f} ms off "
            f"= {cost.latency_ratio:.3f}x; {cost.rows_per_second_on:,.0f} / "
            f"{cost.rows_per_second_off:,.0f} rows/s = {cost.throughput_ratio:.3f}x the time",
            flush=True,
        )
    if quiet.busy_starts:
        print(f"  {len(quiet.busy_starts)} of {quiet.waits} measurements started on a busy machine")
    return Results(
        data,
        background,
        migrate_on,
        migrate_off,
        deltas,
        unfolded,
        recounted,
        counted,
        unprepared,
        reads,
        extra,
        current,
        phases,
        costs,
        busy,
        quiet,
        time.perf_counter() - started,
    )


# --- the report --------------------------------------------------------------------------------


def _ms(timing: Timing) -> str:
    return (
        f"{timing.p50:.1f} | {timing.p99:.1f} | {timing.mean:.1f} | {min(timing.ms):.1f} "
        f"| {max(timing.ms):.1f} | {len(timing.ms)}"
    )


def metrics_section(results: Results, args: argparse.Namespace, url: str) -> str:
    """The `## Metrics` section of docs/benchmarks.md, markers included."""
    data, current = results.data, results.current
    rows = data.valid_rows
    api_p50 = {kind: results.api_reads[f"json_{kind}"].p50 for kind in PATHS}
    c1 = next(c for c in results.insert_costs if c.concurrency == 1)
    cn = results.insert_costs[-1]
    # The target: p50 at concurrency 1, and the time for the same rows at every concurrency.
    insert_ok = c1.latency_ratio <= TARGET_INSERT_SLOWDOWN and all(
        c.throughput_ratio <= TARGET_INSERT_SLOWDOWN for c in results.insert_costs
    )
    fresh_ok = not current.mismatches
    labels = {
        BY_QUARTER: "hires by quarter",
        ABOVE_MEAN: f"departments above the mean (`mean_over={MEAN_OVER}`)",
    }
    autovacuum = figures.setting(url, "autovacuum")
    lines = [
        *figures.heading(START, "Metrics", "`bench/metrics.py`"),
        f"- Server: {figures.server(url)}, autovacuum={autovacuum}, on the same "
        "machine; default planner settings (parallel workers included)",
        f"- API: `hrdata serve --workers {args.workers}` (uvicorn) on 127.0.0.1, folding the "
        "counts every second (the default); clients on the same machine",
        f"- Data: `bench/generate.py --rows {data.rows} --seed {args.seed}` loaded by `hrdata "
        f"migrate`: {rows:,} rows in hired_employees; year {YEAR}",
        f"- Runs: before each measurement a wait (up to {args.settle:g} s) for a quiet machine "
        f"(under {QUIET_CPU:.0%} CPU busy over a second): {_busy_starts(results.quiet)}; machine "
        f"{results.background_busy:.0%} busy in the 2 s before the run; the whole run took "
        f"{results.elapsed_seconds / 60:.1f} minutes",
        "",
        "### Reads",
        "",
        "| metric | how | p50 (ms) | p99 (ms) | mean (ms) | min (ms) | max (ms) | runs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind in PATHS:
        lines += [
            f"| {labels[kind]} | plain SQL from hired_employees (`counts.RECOUNTED`), psycopg "
            f"| {_ms(results.recounted[kind])} |",
            f"| {labels[kind]} | SQL on the hire counts (default source), psycopg "
            f"| {_ms(results.counted[kind])} |",
            f"| {labels[kind]} | the same, never prepared (a custom plan each time) "
            f"| {_ms(results.unprepared[kind])} |",
            f"| {labels[kind]} | API, JSON | {_ms(results.api_reads[f'json_{kind}'])} |",
            f"| {labels[kind]} | API, CSV | {_ms(results.api_reads[f'csv_{kind}'])} |",
            f"| {labels[kind]} | API, JSON, while a thread posts batches "
            f"| {_ms(current.timings[kind])} |",
        ]
    unfolded = ", ".join(f"{labels[k]} {t.p50:.1f} ms" for k, t in results.counts_unfolded.items())
    lines += [
        "",
        "Direct SQL: the query functions of `hrdata.metrics.queries` on one autocommit "
        "connection, the two metrics alternately, after one untimed run of each, on the table "
        "as `hrdata migrate` left it, vacuumed and analysed, its counts folded; psycopg's "
        "default prepares a query from its sixth run on, as in the API, after which the server "
        'may pick a generic plan (the row "never prepared" shows what that costs). API: one '
        "keep-alive `httpx` client, the four requests (two metrics, JSON and CSV) round-robin "
        f"after {args.warmup} untimed rounds; latency is the request to the last byte of the "
        "answer (parsing it not included), every answer checked to reflect all rows. API server "
        f"CPU: {results.api_extra['server_cpu_ms_per_request']:.1f} ms per request. Machine CPU "
        f"busy: {_share(results.busy, 'direct_sql')} during the direct SQL, "
        f"{_share(results.busy, 'api_reads')} during the API reads, "
        f"{_share(results.busy, 'while_writing')} while writing. Just after "
        f"the migration, before any fold ({_rows(results.deltas_after_migration, 'delta row')}), "
        "the "
        f"counts-based SQL took {unfolded} (p50 of 3).",
        "",
        f"While writing: a second thread posted {current.batches:,} batches of "
        f"{api.BATCH_ROWS:,} rows back to back through the API ({current.rows_per_second:,.0f} "
        "rows/s), and after each POST returned it asked for one metric (alternately) and "
        "compared the rows the answer reflects (`data.hired_employees`, equal to `X-Data-Rows`) "
        "with the exact count: the table's count at the start plus every acknowledged batch "
        f"(every {args.count_every}th check also against a fresh `count(*)`, and `count(*)` "
        f"once more at the end). {current.exact_checks:,} checks, {current.count_checks:,} of "
        f"them against `count(*)`: {_all_matched(current)}. Each of the {current.bound_checks:,} "
        "timed reads was checked to reflect at least every batch acknowledged before it was "
        f"sent and at most those sent before it returned ({current.overlapped:,} of them "
        "overlapped a batch in flight). Both answers equal the recount before and after.",
        "",
        "### Cost of the counts triggers",
        "",
        "| what | counts triggers | p50 (ms) | p99 (ms) | rows/s | API server CPU per batch (ms) |",
        "|---|---|---|---|---|---|",
    ]
    for cost in results.insert_costs:
        for on in (True, False):
            lines.append(
                f"| API batches of {api.BATCH_ROWS:,} rows, c={cost.concurrency} | {_on(on)} "
                f"| {cost.p50_on if on else cost.p50_off:.1f} "
                f"| {cost.p99_on if on else cost.p99_off:.1f} "
                f"| {cost.rows_per_second_on if on else cost.rows_per_second_off:,.0f} "
                f"| {cost.server_cpu_ms_on if on else cost.server_cpu_ms_off:.1f} |"
            )
    if results.migrate_on.ms:
        for on, timing in ((True, results.migrate_on), (False, results.migrate_off)):
            seconds = timing.p50 / 1000
            lines.append(
                f"| `hrdata migrate` of the {data.rows:,}-line files, seconds min / median "
                f"| {_on(on)} | {min(timing.ms) / 1000:.2f} / {seconds:.2f} s | — "
                f"| {rows / seconds:,.0f} | — |"
            )
    migration_ratio = (
        results.migrate_on.p50 / results.migrate_off.p50 if results.migrate_on.ms else None
    )
    lines += [
        "",
        f"Batches: `bench/api.py`'s method ({args.insert_batches} valid batches per phase, "
        f"{args.warmup_batches} warm-up batches, table emptied and `CHECKPOINT` before each "
        f"phase, every answer and the table checked); {args.insert_rounds} rounds of each phase, "
        "the order of on and off swapped every round; p50 and p99 over every batch of the "
        'rounds, rows/s as all rows over all wall time. "Off" is every `hire_counts_*` '
        "trigger disabled (`ALTER TABLE ... DISABLE TRIGGER`), turned back on (`ENABLE ALWAYS`) "
        "after the phase. Migration: into an emptied schema created by hrdata's DDL, "
        f"{args.migrate_repeat} runs each, interleaved, summary and table checked"
        + (
            f"; with the triggers it takes {migration_ratio:.2f}x the time without."
            if migration_ratio
            else "."
        ),
        "",
        "Targets:",
        "",
        *[
            f"- API p50 ≤ {TARGET_P50_MS:g} ms at {rows:,} rows, {labels[kind]}: "
            f"{api_p50[kind]:.1f} ms — {figures.met(api_p50[kind] <= TARGET_P50_MS)}"
            for kind in PATHS
        ],
        f"- never stale: {current.exact_checks:,} exact checks after a write, "
        f"{current.bound_checks:,} bounds checks during writes — {figures.met(fresh_ok)}",
        f"- API batches at most {TARGET_INSERT_SLOWDOWN - 1:.0%} slower with the triggers: p50 "
        f"c=1 {c1.latency_ratio:.3f}x, time for the same rows c=1 {c1.throughput_ratio:.3f}x"
        + (
            f", c={cn.concurrency} {cn.throughput_ratio:.3f}x"
            if cn.concurrency != c1.concurrency
            else ""
        )
        + f" — {figures.met(insert_ok)}"
        + (
            f" (p50 at c={cn.concurrency}, not part of the target: {cn.latency_ratio:.3f}x)"
            if cn.concurrency != c1.concurrency
            else ""
        ),
        "- `hrdata migrate` with the triggers: "
        + (f"{migration_ratio:.2f}x the time without (no target)" if migration_ratio else "—"),
        "",
        "How they stay current: statement-level `AFTER` triggers on hired_employees read each "
        "statement's transition table and append one row per statement to `hire_count_deltas`: "
        f"up to {counts.PACK_LIMIT:,} rows (an API batch) as ungrouped arrays of hire moments, "
        "departments and jobs, larger statements (a migration file, a restore) grouped by "
        "quarter, department and job with their counts. Appending touches no existing row, so "
        "concurrent writers never wait on each other, and the triggers are `ENABLE ALWAYS`, so "
        "they fire also when a loader turns per-row triggers off. A reader adds `hire_counts` and "
        "the year's unfolded deltas in one snapshot, so an answer counts every row committed "
        "before it started; the running service folds the deltas into `hire_counts` every second "
        "(`HRDATA_METRICS_FOLD_SECONDS`), which keeps them few.",
        END,
    ]
    return "\n".join(lines)


def _rows(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _share(busy: dict[str, float], key: str) -> str:
    return f"{busy[key]:.0%}" if key in busy else "—"


def _busy_starts(quiet: Quiet) -> str:
    if not quiet.busy_starts:
        return f"all {quiet.waits} started quiet"
    return f"{len(quiet.busy_starts)} of {quiet.waits} started on a busy machine"


def _all_matched(current: Current) -> str:
    return "all matched" if not current.mismatches else f"{len(current.mismatches)} did not"


def save_raw(results: Results, args: argparse.Namespace) -> Path:
    def timings(group: dict[str, Timing]) -> dict[str, Any]:
        return {k: t.summary() | {"ms": t.ms} for k, t in group.items()}

    raw = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "elapsed_seconds": results.elapsed_seconds,
        "background_busy": results.background_busy,
        "migrate_ms": {"on": results.migrate_on.ms, "off": results.migrate_off.ms},
        "counts_unfolded": timings(results.counts_unfolded),
        "recounted": timings(results.recounted),
        "counted": timings(results.counted),
        "unprepared": timings(results.unprepared),
        "machine_busy": results.busy,
        "busy_starts": results.quiet.busy_starts,
        "api_reads": timings(results.api_reads),
        "api_extra": results.api_extra,
        "while_writing": {k: v for k, v in asdict(results.current).items() if k != "timings"}
        | {"timings": timings(results.current.timings)},
        "insert_costs": [asdict(c) for c in results.insert_costs],
        "insert_phases": [
            asdict(p) | {"p50_ms": p.p50, "p99_ms": p.p99, "rows_per_second": p.rows_per_second}
            for p in results.insert_phases
        ],
    }
    path = harness.DATA / "metrics-results.json"
    path.write_text(json.dumps(raw, indent=2) + "\n")
    return path


# --- command line ------------------------------------------------------------------------------

QUICK = {
    "rows": 100_000,
    "requests": 20,
    "warmup": 2,
    "sql_repeat": 2,
    "counts_repeat": 5,
    "stream_batches": 100,
    "insert_batches": 10,
    "warmup_batches": 2,
    "insert_rounds": 1,
    "migrate_repeat": 1,
    "settle": 2.0,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, help="lines of the generated file (2,000,000)")
    parser.add_argument("--requests", type=int, help="timed API requests per metric (200)")
    parser.add_argument("--warmup", type=int, help="untimed API requests per metric first (20)")
    parser.add_argument("--sql-repeat", type=int, help="timed runs of the plain SQL (5)")
    parser.add_argument("--counts-repeat", type=int, help="timed runs of the counts SQL (50)")
    parser.add_argument(
        "--stream-batches", type=int, help="batches ready for the writer thread (1000)"
    )
    parser.add_argument(
        "--count-every", type=int, default=10, help="freshness checks per count(*) check"
    )
    parser.add_argument("--insert-batches", type=int, help="timed batches per insert phase (200)")
    parser.add_argument("--warmup-batches", type=int, help="untimed batches per insert phase (8)")
    parser.add_argument("--insert-rounds", type=int, help="rounds of with/without phases (6)")
    parser.add_argument(
        "--migrate-repeat", type=int, help="migrations with and without the triggers (3; 0: one)"
    )
    parser.add_argument("--concurrency", type=int, default=4, help="clients of the c=N phases")
    parser.add_argument(
        "--settle",
        type=float,
        help="seconds to wait at most, before each measurement, for the machine to be quiet (60)",
    )
    parser.add_argument("--workers", type=int, default=2, help="`hrdata serve --workers`")
    parser.add_argument(
        "--quick", action="store_true", help="a fast smoke run on 100,000 rows; leaves the doc"
    )
    harness.add_common_arguments(
        parser,
        database="hrdata_bench_metrics",
        py_spy="record the API server during the timed reads "
        "(bench/data/api-profile-metrics-reads.txt)",
    )
    args = parser.parse_args(argv)
    full = {
        "rows": 2_000_000,
        "requests": 200,
        "warmup": 20,
        "sql_repeat": 5,
        "counts_repeat": 50,
        "stream_batches": 1000,
        "insert_batches": 200,
        "warmup_batches": 8,
        "insert_rounds": 6,
        "migrate_repeat": 3,
        "settle": 60.0,
    }
    for name, value in (QUICK if args.quick else full).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.quick:
        args.no_doc = True
    positive = ("rows", "requests", "sql_repeat", "counts_repeat", "stream_batches")
    if any(getattr(args, name) < 1 for name in positive) or args.insert_batches < 1:
        parser.error("--rows, --requests, the repeats and the batch counts must be positive")
    if args.insert_rounds < 1 or args.migrate_repeat < 0 or args.count_every < 1:
        parser.error("--insert-rounds and --count-every must be positive, --migrate-repeat not <0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def report(results: Results, url: str) -> str:
        print(f"== raw results in {harness.relative(save_raw(results, args))}")
        print(f"== measured in {results.elapsed_seconds / 60:.1f} minutes")
        return metrics_section(results, args, url)

    return harness.run_benchmark(
        args, lambda url: benchmark(args, url, [args.hrdata]), report, (START, END)
    )


if __name__ == "__main__":
    sys.exit(main())
