"""API benchmark: 1000-row batches posted to `hrdata serve` against direct COPY on the same server.

On one server, one database and one set of valid hired_employees batches, it times:
- direct COPY: each batch written with psycopg's `cursor.copy` into hired_employees as hrdata
  declares it (primary key, NOT NULL, both foreign keys checked by per-row triggers), one
  transaction per batch, from 1 connection and from 4 at once;
- the API: the same batches posted as JSON to a real `hrdata serve` subprocess over HTTP
  (keep-alive httpx clients), from 1 client and from 4 at once;
with every batch's latency, the wall time of each phase, and every answer and the table's
contents checked. The figures go to the `## API` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

import figures
import generate
import harness
from harness import BenchmarkFailed

HOME = harness.DATA / "hrdata-home-api"
START, END = figures.markers("api")
TABLE = "hired_employees"
ROWS_PATH = f"/v1/tables/{TABLE}/rows"
COLUMNS = ("id", "name", "datetime", "department_id", "job_id")
INTEGER_COLUMNS = {"id", "department_id", "job_id"}
BATCH_ROWS = 1000  # The API's largest batch.

TARGET_LATENCY = 2.0  # API p50 per batch (concurrency 1) at most 2x direct COPY's.
TARGET_THROUGHPUT = 0.5  # API rows/s at concurrency N at least 0.5x direct COPY's at N.

Sender = Callable[["Batch"], None]
OpenSender = Callable[[], AbstractContextManager[Sender]]


# --- data --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """One batch of valid rows, ready to send: as a JSON request body and as COPY text."""

    first_id: int
    rows: int
    body: bytes
    copy: bytes


def make_batches(count: int, first_id: int, seed: int) -> list[Batch]:
    """`count` batches of BATCH_ROWS valid rows with consecutive ids from `first_id`.

    Rows come from bench/generate.py's generator (the challenge's names, departments and jobs,
    hire times in 2021 and early 2022 ending in `Z`); every one is valid.
    """
    departments = generate.read_reference(generate.CHALLENGE / "departments.csv")
    jobs = generate.read_reference(generate.CHALLENGE / "jobs.csv")
    names = generate.read_names(generate.CHALLENGE / "hired_employees.csv")
    gen = generate.Generator(seed, names, len(departments), len(jobs))
    batches = []
    for n in range(count):
        start = first_id + n * BATCH_ROWS
        rows = gen._valid_fields(start, BATCH_ROWS)
        objects = [
            {c: int(v) if c in INTEGER_COLUMNS else v for c, v in zip(COLUMNS, row, strict=True)}
            for row in rows
        ]
        copy_text = "".join("\t".join(row) + "\n" for row in rows)
        if "\\" in copy_text:
            raise ValueError("a generated row holds COPY's escape character")
        body = json.dumps({"rows": objects}, ensure_ascii=False).encode()
        batches.append(Batch(start, len(rows), body, copy_text.encode()))
    return batches


# --- database ----------------------------------------------------------------------------------


def empty_table(url: str, checkpoint: bool) -> None:
    """hired_employees (and the API's idempotency keys) emptied; dirty pages flushed on request."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("TRUNCATE {}, idempotency_keys").format(sql.Identifier(TABLE)))
        if checkpoint:
            conn.execute("CHECKPOINT")


def superuser(url: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    return bool(row and row[0])


@contextmanager
def copy_sender(url: str) -> Iterator[Sender]:
    """One connection; each batch COPYed into hired_employees in a transaction of its own."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(TABLE), sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
    )
    with psycopg.connect(url, application_name="bench-api-copy") as conn:

        def send(batch: Batch) -> None:
            cursor = conn.cursor()
            with cursor.copy(statement) as copy:
                copy.write(batch.copy)
            conn.commit()
            if cursor.rowcount != batch.rows:
                raise BenchmarkFailed(f"COPY wrote {cursor.rowcount} rows, not {batch.rows}")

        yield send


# --- the API -----------------------------------------------------------------------------------


@contextmanager
def api_sender(base_url: str, token: str, idempotency: bool) -> Iterator[Sender]:
    """One keep-alive HTTP client; each batch posted as JSON, its answer checked."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=120) as client:

        def send(batch: Batch) -> None:
            extra = {"Idempotency-Key": str(uuid.uuid4())} if idempotency else None
            response = client.post(ROWS_PATH, content=batch.body, headers=extra)
            if response.status_code != 200:
                raise BenchmarkFailed(
                    f"batch from id {batch.first_id}: HTTP {response.status_code}: "
                    f"{response.text[:500]}"
                )
            answer = response.json()
            if answer["inserted"] != batch.rows or answer["skipped"] or answer["rejected"]:
                summary = {k: answer[k] for k in ("inserted", "skipped")}
                raise BenchmarkFailed(
                    f"batch from id {batch.first_id}: {summary}, "
                    f"{len(answer['rejected'])} rejected: {json.dumps(answer['rejected'])[:500]}"
                )

        yield send


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Phase:
    """One measured phase: a way of writing, a concurrency, every batch's latency."""

    key: str
    label: str
    concurrency: int
    batches: int = 0
    rows: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    starts_ms: list[float] = field(default_factory=list)  # each batch's start, from the first
    server_cpu_seconds: float | None = None
    client_cpu_seconds: float = 0.0
    machine_busy_share: float = 0.0

    @property
    def p50(self) -> float:
        return figures.p50(self.latencies_ms)

    @property
    def p99(self) -> float:
        return figures.p99(self.latencies_ms)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds

    def drift(self) -> tuple[float, float]:
        """p50 of the first and of the last tenth of the batches, in the order they started:
        latency that grows with the table shows here."""
        ordered = [ms for _, ms in sorted(zip(self.starts_ms, self.latencies_ms, strict=True))]
        tenth = max(1, len(ordered) // 10)
        return figures.p50(ordered[:tenth]), figures.p50(ordered[-tenth:])


def drive(
    phase: Phase,
    batches: list[Batch],
    warmup: list[Batch],
    open_sender: OpenSender,
    between: Callable[[], None],
    cpu: Callable[[], float] | None = None,
) -> Phase:
    """Send `batches` from `phase.concurrency` threads, each with its own sender.

    Each thread first sends its share of `warmup` (not counted); then `between` runs while
    they all wait (it empties the table), and the timed batches are handed out from one queue.
    """
    n = phase.concurrency
    ready, go = threading.Barrier(n + 1), threading.Barrier(n + 1)
    pending: queue.SimpleQueue[Batch] = queue.SimpleQueue()
    for batch in batches:
        pending.put(batch)
    latencies: list[list[tuple[float, float]]] = [[] for _ in range(n)]
    finished = [0.0] * n
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            with open_sender() as send:
                for batch in warmup[index::n]:
                    send(batch)
                ready.wait()
                go.wait()
                while True:
                    try:
                        batch = pending.get_nowait()
                    except queue.Empty:
                        break
                    sent = time.perf_counter()
                    send(batch)
                    latencies[index].append((sent, (time.perf_counter() - sent) * 1000))
                finished[index] = time.perf_counter()
        except BaseException as exc:
            errors.append(exc)
            ready.abort()
            go.abort()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    try:
        ready.wait()
        between()
        cpu_before, client_before, machine_before = (
            cpu() if cpu else 0.0,
            time.process_time(),
            figures.machine_cpu(),
        )
        started = time.perf_counter()
        go.wait()
    except threading.BrokenBarrierError:
        pass
    except BaseException:
        ready.abort()
        go.abort()
        raise
    finally:
        for thread in threads:
            thread.join()
    failures = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
    if failures or errors:
        raise (failures or errors)[0]
    phase.seconds = max(finished) - started
    if cpu is not None:
        phase.server_cpu_seconds = cpu() - cpu_before
    phase.client_cpu_seconds = time.process_time() - client_before
    phase.machine_busy_share = figures.busy_share(machine_before, figures.machine_cpu())
    timed = sorted(pair for worker_pairs in latencies for pair in worker_pairs)
    phase.starts_ms = [(sent - started) * 1000 for sent, _ in timed]
    phase.latencies_ms = [ms for _, ms in timed]
    phase.batches = len(phase.latencies_ms)
    phase.rows = sum(b.rows for b in batches)
    return phase


def _show(phase: Phase) -> None:
    server = (
        f"  server CPU {phase.server_cpu_seconds * 1000 / phase.batches:5.1f} ms/batch"
        if phase.server_cpu_seconds is not None
        else ""
    )
    first, last = phase.drift()
    print(
        f"  {phase.label:<20} c={phase.concurrency}: p50 {phase.p50:6.1f} ms "
        f"({first:.1f} first 10%, {last:.1f} last)  "
        f"p99 {phase.p99:6.1f} ms  {phase.rows_per_second:>9,.0f} rows/s  "
        f"({phase.batches} batches in {phase.seconds:.2f} s, machine CPU "
        f"{phase.machine_busy_share:.0%} busy){server}",
        flush=True,
    )


# --- the benchmark -----------------------------------------------------------------------------


@dataclass
class Results:
    phases: list[Phase]
    superuser: bool
    idempotency: bool
    background_busy: float

    def get(self, key: str) -> Phase:
        return next(p for p in self.phases if p.key == key)


def benchmark(args: argparse.Namespace, url: str, command: list[str]) -> Results:
    """Direct COPY, then the API, each at concurrency 1 and N, on the same batches."""
    batches = make_batches(args.batches, 1, args.seed)
    warmup = make_batches(args.warmup, args.batches * BATCH_ROWS + 1, args.seed + 1)
    harness.prepare_database(url)
    background = figures.cpu_busy()
    print(f"  machine {background:.0%} busy before the run (other processes)", flush=True)
    if background > 0.1:
        print("  warning: the machine is busy; the figures will be noisy", flush=True)
    expected_rows = args.batches * BATCH_ROWS
    fingerprints: set[tuple[Any, ...]] = set()
    phases: list[Phase] = []
    levels = sorted({1, args.concurrency})

    def run(phase: Phase, open_sender: OpenSender, cpu: Callable[[], float] | None) -> None:
        empty_table(url, checkpoint=False)
        drive(phase, batches, warmup, open_sender, lambda: empty_table(url, True), cpu)
        count = harness.table_count(url)
        if count != expected_rows:
            raise BenchmarkFailed(f"{phase.label}: {count} rows in {TABLE}, {expected_rows} sent")
        fingerprints.add(harness.fingerprint(url))
        if len(fingerprints) != 1:
            raise BenchmarkFailed(f"{phase.label}: {TABLE} differs from the first phase's")
        phases.append(phase)
        _show(phase)

    for n in levels:
        run(Phase(f"copy_c{n}", "direct COPY", n), lambda: copy_sender(url), None)
    HOME.mkdir(parents=True, exist_ok=True)
    with harness.serve(command, url, HOME, args.workers) as server:
        token = harness.create_key(command, url, HOME, "ingest", "bench/api.py")
        print(f"  hrdata serve pid {server.process.pid} at {server.base_url}", flush=True)
        for n in levels:
            phase = Phase(f"api_c{n}", "API (HTTP, JSON)", n)
            profile = harness.DATA / f"api-profile-c{n}.txt"
            with harness.profiling(args.py_spy, server.process.pid, profile):
                run(
                    phase,
                    lambda: api_sender(server.base_url, token, args.idempotency_key),
                    server.cpu_seconds,
                )
    return Results(phases, superuser(url), args.idempotency_key, background)


# --- the report --------------------------------------------------------------------------------


def api_section(results: Results, args: argparse.Namespace, url: str) -> str:
    """The `## API` section of docs/benchmarks.md, markers included."""
    n = args.concurrency
    copy1, copy_n = results.get("copy_c1"), results.get(f"copy_c{n}")
    api1, api_n = results.get("api_c1"), results.get(f"api_c{n}")
    latency_ratio = api1.p50 / copy1.p50
    throughput_ratio = api_n.rows_per_second / copy_n.rows_per_second
    idempotency = (
        "each with a fresh `Idempotency-Key`" if results.idempotency else "no `Idempotency-Key`"
    )
    autovacuum = figures.setting(url, "autovacuum")
    lines = [
        *figures.heading(START, "API", "`bench/api.py`"),
        f"- Server: {figures.server(url)}, autovacuum={autovacuum}, on the same machine; "
        f"the benchmark and the API connect as a "
        f"{'superuser' if results.superuser else 'plain role'}",
        f"- API: `hrdata serve --workers {args.workers}` (uvicorn) on 127.0.0.1, on the same "
        "machine as the server and the clients",
        f"- Data: {args.batches} batches of {BATCH_ROWS:,} valid hired_employees rows "
        f"({args.batches * BATCH_ROWS:,} rows, distinct ids; bench/generate.py's rows, seed "
        f"{args.seed}), the same batches in every phase; 12 departments and 183 jobs of "
        "`data/challenge`",
        f"- Runs: 4 phases, one after the other; before each, {args.warmup} warm-up batches "
        "(other ids, not counted) on the phase's own connections or clients, then the table "
        "emptied (`TRUNCATE`) and `CHECKPOINT`; every answer checked (HTTP 200, 1,000 "
        "inserted), and after each phase the row count and contents of the table; machine "
        f"{results.background_busy:.0%} busy in the 2 s before the run",
        "",
        "| writer | concurrency | p50 per batch (ms) | p99 per batch (ms) "
        "| p50 first / last 10% (ms) | rows/s | API server CPU per batch (ms) "
        "| machine CPU busy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for phase in results.phases:
        name = (
            "direct `COPY`, one transaction per batch"
            if phase.key.startswith("copy")
            else f"API: `POST {ROWS_PATH}`, JSON, {idempotency}"
        )
        cpu = (
            f"{phase.server_cpu_seconds * 1000 / phase.batches:.1f}"
            if phase.server_cpu_seconds is not None
            else "—"
        )
        first, last = phase.drift()
        lines.append(
            f"| {name} | {phase.concurrency} | {phase.p50:.1f} | {phase.p99:.1f} "
            f"| {first:.1f} / {last:.1f} | {phase.rows_per_second:,.0f} | {cpu} "
            f"| {phase.machine_busy_share:.0%} |"
        )
    lines += [
        "",
        "Latency is one batch's round trip as its client sees it (for the API: HTTP request to "
        "parsed answer; for COPY: `COPY` and `COMMIT`). Rows/s is the phase's rows over its wall "
        f"time, from the first timed batch to the last answer. Concurrency {n} means {n} threads, "
        "each with its own connection (COPY) or keep-alive `httpx` client (API), taking batches "
        "from one queue. Machine CPU is the share of all cores busy during the phase: server, "
        "API and clients share them. The first and last tenth of the batches (in the order "
        "they were sent) show whether latency grows with the table (empty at the start, "
        f"{args.batches * BATCH_ROWS:,} rows at the end).",
        "",
        "Direct `COPY` pays the per-row foreign key triggers of hrdata's DDL. The API checks "
        "references in Python under a `SHARE` lock on the parents and turns the triggers off "
        "for its transaction when its role may (`session_replication_role = replica`, "
        f"{'so here it does' if results.superuser else 'not here: a plain role'}). Batches "
        f"into {TABLE} run side by side without a table lock; one that meets an id a "
        "concurrent batch has just stored is redone holding the table.",
        "",
        "Targets:",
        "",
        f"- API p50 per {BATCH_ROWS:,}-row batch ≤ {TARGET_LATENCY:g}x direct `COPY`'s, at "
        f"concurrency 1: {api1.p50:.1f} ms vs {copy1.p50:.1f} ms = {latency_ratio:.2f}x — "
        f"{figures.met(latency_ratio <= TARGET_LATENCY)}",
        f"- API throughput at concurrency {n} ≥ {TARGET_THROUGHPUT:g}x direct `COPY`'s at "
        f"concurrency {n}: {api_n.rows_per_second:,.0f} vs {copy_n.rows_per_second:,.0f} rows/s "
        f"= {throughput_ratio:.2f}x — {figures.met(throughput_ratio >= TARGET_THROUGHPUT)} "
        f"(against direct `COPY` at concurrency 1: "
        f"{api_n.rows_per_second / copy1.rows_per_second:.2f}x)",
        "",
        f"As the table fills, the API's p50 at concurrency 1 goes from {api1.drift()[0]:.1f} ms "
        f"(first tenth of the batches) to {api1.drift()[1]:.1f} ms (last tenth); direct "
        f"`COPY`'s from {copy1.drift()[0]:.1f} to {copy1.drift()[1]:.1f} ms.",
        END,
    ]
    return "\n".join(lines)


def save_raw(results: Results, args: argparse.Namespace) -> Path:
    """Every latency of every phase as JSON under bench/data."""
    raw = {
        "batches": args.batches,
        "batch_rows": BATCH_ROWS,
        "warmup": args.warmup,
        "seed": args.seed,
        "superuser": results.superuser,
        "background_busy": results.background_busy,
        "idempotency_key": results.idempotency,
        "phases": [
            asdict(p) | {"p50_ms": p.p50, "p99_ms": p.p99, "rows_per_second": p.rows_per_second}
            for p in results.phases
        ],
    }
    path = harness.DATA / "api-results.json"
    path.write_text(json.dumps(raw, indent=2) + "\n")
    return path


# --- command line ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--batches", type=int, default=200, help="timed batches of 1,000 rows per phase"
    )
    parser.add_argument(
        "--warmup", type=int, default=8, help="untimed batches before each phase (0: none)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=4, help="clients of the concurrent phases (and 1)"
    )
    parser.add_argument(
        "--idempotency-key",
        action="store_true",
        help="send a fresh Idempotency-Key with every API batch",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="API processes (`hrdata serve --workers`)"
    )
    harness.add_common_arguments(
        parser,
        database="hrdata_bench_api",
        data_set=False,
        py_spy="record the API server during its phases "
        "(raw profiles in bench/data/api-profile-c*.txt)",
    )
    args = parser.parse_args(argv)
    if args.batches < 1 or args.concurrency < 1 or args.warmup < 0:
        parser.error("--batches and --concurrency must be positive, --warmup not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def report(results: Results, url: str) -> str:
        print(f"== raw results in {harness.relative(save_raw(results, args))}")
        return api_section(results, args, url)

    return harness.run_benchmark(
        args, lambda url: benchmark(args, url, [args.hrdata]), report, (START, END)
    )


if __name__ == "__main__":
    sys.exit(main())
