"""Reliability benchmark: hrdata under faults, kills and hostile requests, with every row counted.

tests/test_load.py, test_faults.py, test_crash.py and api/test_hostile.py check each behaviour on
every run of the suite, small and one at a time. This script runs the same faults at a larger
scale, in one run, and records the figures in docs/reliability.md:

1. clients under faults: 8 clients post 1,000-row batches with retries (same Idempotency-Key)
   to `hrdata serve --workers 2` on a PostgreSQL of the script's own, while a uvicorn worker is
   SIGKILLed and the database is stopped and started again; the rows the clients were told
   were stored must be exactly the rows in the table;
2. a migration of the generated data set SIGKILLed at five points, then run again: exactly the
   expected rows, the killed run marked interrupted;
3. a restore SIGKILLed during its COPY: the table exactly as before; restored again: exactly
   the backup's rows;
4. hostile requests against the service of (1): never a 5xx, never a dead server, no memory
   kept from 50 MB bodies.

Any row missing or extra, any 5xx, a service that does not recover: BenchmarkFailed, exit 1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

import api
import figures
import generate
import harness
from harness import DATA, ROOT, BenchmarkFailed, Dataset
from hrdata.auth import create_key
from hrdata.db import start_embedded, stop_embedded

DOC = ROOT / "docs" / "reliability.md"
HOME = DATA / "hrdata-home-reliability"  # HRDATA_HOME of every hrdata process started here
PG_HOME = DATA / "reliability-postgres"  # the embedded PostgreSQL of scenario 1
RESULTS = DATA / "reliability-results.json"  # reliability-results-quick.json for --quick
TABLE = "hired_employees"
TABLES = ("departments", "jobs", TABLE)
ROWS_PATH = f"/v1/tables/{TABLE}/rows"
INTEGER_COLUMNS = {"id", "department_id", "job_id"}

# Scenario 1: clients under faults.
BATCH_ROWS = 1000
INVALID_PER_BATCH = 10  # rejected rows per batch, besides the conflicting one
CLIENT_ID_SPAN = 100_000_000  # client n posts ids from n * CLIENT_ID_SPAN + 1
LOST_SHARE = 0.2  # attempts whose answer is lost (tiny read timeout)
LOSING_READ_TIMEOUT = 0.005
REQUEST_TIMEOUT = 60.0
BATCH_DEADLINE = 180.0  # a batch unanswered this long: the service did not recover
UNEXPECTED_LIMIT = 5  # answers neither 200 nor 503 tolerated for one batch before giving up
KILL_WORKER_AT = 0.25  # shares of the run's duration
OUTAGE_AT = 0.55
OUTAGE_SECONDS = 3.0
READY_POLL_SECONDS = 0.2
READY_POLLERS = 3
# An API route polled around the outage, each time on a new connection (so on either worker).
API_POLL_PATH = "/v1/me"
API_POLL_SECONDS = 0.05
API_POLLERS = 2

# Scenario 4: hostile requests.
FIFTY_MB = 50 << 20
RSS_GROWTH_LIMIT_MB = 40.0  # a server process keeping a 50 MB body would grow by ~50 MB
SQL_NAME = "Robert'); DROP TABLE hired_employees; --"
HOSTILE_ID_BASE = 2_000_000_000  # ids of the hostile rows, far from the clients'


# --- processes and environment -----------------------------------------------------------------


def uvicorn_workers(server_pid: int) -> list[psutil.Process]:
    """The live uvicorn worker processes of `hrdata serve` (multiprocessing children)."""
    try:
        children = psutil.Process(server_pid).children()
    except psutil.NoSuchProcess:
        return []
    workers = []
    for child in children:
        try:
            if child.status() != psutil.STATUS_ZOMBIE and any(
                "spawn_main" in part for part in child.cmdline()
            ):
                workers.append(child)
        except psutil.NoSuchProcess:
            continue
    return workers


def rss_mb(server_pid: int) -> dict[int, float]:
    """Resident memory of the server process and each of its workers, in MB."""
    found = {}
    for process in [psutil.Process(server_pid), *uvicorn_workers(server_pid)]:
        try:
            found[process.pid] = process.memory_info().rss / harness.MB
        except psutil.NoSuchProcess:
            continue
    return found


def start_hrdata(command: list[str], url: str, *arguments: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*command, *arguments],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=harness.hrdata_env(url, HOME),
        cwd=ROOT,
    )


def wait_for(
    condition: Callable[[], str | None], process: subprocess.Popen[bytes], what: str
) -> str:
    """Poll `condition` every 5 ms until it describes what it saw; the process must still run."""
    deadline = time.monotonic() + 300
    while True:
        seen = condition()
        if seen is not None:
            return seen
        if process.poll() is not None:
            raise BenchmarkFailed(f"the process ended (exit {process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise BenchmarkFailed(f"{what} never came")
        time.sleep(0.005)


def sigkill(process: subprocess.Popen[bytes], db: psycopg.Connection) -> None:
    """SIGKILL an hrdata command, then wait until PostgreSQL has ended its session."""
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 60
    while db.execute(
        "SELECT 1 FROM pg_stat_activity "
        "WHERE application_name = 'hrdata' AND datname = current_database()"
    ).fetchone():
        if time.monotonic() > deadline:
            raise BenchmarkFailed("the killed command's session never went away")
        time.sleep(0.01)


def copied(db: psycopg.Connection, at_least: int) -> Callable[[], str | None]:
    """A COPY into hired_employees has processed at least `at_least` rows."""

    def check() -> str | None:
        row = db.execute(
            "SELECT tuples_processed FROM pg_stat_progress_copy "
            "WHERE relid = to_regclass('hired_employees') AND datname = current_database()"
        ).fetchone()
        if row is not None and row[0] >= at_least:
            return f"{row[0]:,} rows copied"
        return None

    return check


def count(db: psycopg.Connection, table: str) -> int:
    """Rows in `table`; 0 when it does not exist yet."""
    try:
        row = db.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
    except psycopg.errors.UndefinedTable:
        return 0
    found = row.fetchone()
    assert found is not None
    return int(found[0])


# --- 1. clients under faults -------------------------------------------------------------------


@dataclass
class ClientTally:
    """What one client sent and was told."""

    batches: int = 0
    requests: int = 0
    retries: int = 0
    lost_answers: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    inserted: int = 0
    rejected: int = 0
    skipped: int = 0
    ids: set[int] = field(default_factory=set)
    wrong_answers: list[str] = field(default_factory=list)  # 200s with other counts than due
    unexpected: list[str] = field(default_factory=list)  # answers neither 200 nor 503
    slowest_batch_seconds: float = 0.0
    unavailable_seconds: list[float] = field(default_factory=list)  # sent -> each 503
    unavailable_without_retry_after: int = 0


@dataclass
class Faults:
    """The faults injected into the service of scenario 1, and how it came back."""

    worker_kills: int = 0
    workers_before_kill: int = 0
    killed_at_seconds: float = 0.0
    replacement_seconds: float | None = None  # until a new worker process was running
    database_restarts: int = 0
    outage_at_seconds: float = 0.0
    outage_seconds: float = OUTAGE_SECONDS  # stopped for this long
    stop_seconds: float = 0.0  # stop_embedded (fast shutdown)
    down_seconds: float = 0.0  # from the stop call to start_embedded returning
    start_seconds: float = 0.0  # start_embedded
    ready_while_down: Counter[str] = field(default_factory=Counter)  # answered while down
    # Every /ready poll around the outage: sent and answered (s after the stop call), outcome.
    ready_polls: list[tuple[float, float, str]] = field(default_factory=list)
    ready_recovery_seconds: float | None = None  # start_embedded called -> first /ready 200
    # The latest /ready poll sent after start_embedded returned that still got 503 (s after).
    ready_503_sent_after_up: float | None = None
    # The same for API_POLL_PATH; its polls sent once the stop had returned, before the start.
    api_polls: list[tuple[float, float, str]] = field(default_factory=list)
    api_while_down: Counter[str] = field(default_factory=Counter)
    api_slowest_503: float | None = None  # sent -> answered, the slowest of all its 503s
    api_recovery_seconds: float | None = None  # start_embedded called -> first 200
    api_503_sent_after_up: float | None = None


@dataclass
class ClientsResult:
    seconds: float
    wall_seconds: float
    clients: int
    workers: int
    uvicorn: str
    postgres: str
    faults: Faults
    tallies: list[ClientTally]
    told_inserted: int = 0
    told_ids: int = 0
    found_rows: int = 0
    missing: int = 0
    extra: int = 0
    workers_at_end: int = 0
    errors: list[str] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(t, name) for t in self.tallies)

    def statuses(self) -> Counter[int]:
        return sum((t.statuses for t in self.tallies), Counter())

    def transport_errors(self) -> Counter[str]:
        return sum((t.transport_errors for t in self.tallies), Counter())


class BatchMaker:
    """One client's batches: valid rows from bench/generate.py's generator with consecutive ids,
    INVALID_PER_BATCH invalid rows, and (from the second batch) a first row that repeats the id
    of the previous batch's last row with another name: a conflict."""

    def __init__(self, client: int, seed: int) -> None:
        departments = generate.read_reference(generate.CHALLENGE / "departments.csv")
        jobs = generate.read_reference(generate.CHALLENGE / "jobs.csv")
        names = generate.read_names(generate.CHALLENGE / "hired_employees.csv")
        self.gen = generate.Generator(seed * 1000 + client, names, len(departments), len(jobs))
        self.rng = random.Random(seed * 1000 + client)
        self.client = client
        self.previous_last: dict[str, Any] | None = None

    def batch(self, number: int) -> tuple[list[dict[str, Any]], int]:
        """The rows of batch `number` and how many of them must be rejected."""
        first = self.client * CLIENT_ID_SPAN + number * BATCH_ROWS + 1
        columns = api.COLUMNS
        rows = [
            {c: int(v) if c in INTEGER_COLUMNS else v for c, v in zip(columns, f, strict=True)}
            for f in self.gen._valid_fields(first, BATCH_ROWS)
        ]
        # Never the first row (the conflict) nor the last (the next batch's conflict target).
        for k, index in enumerate(self.rng.sample(range(1, BATCH_ROWS - 1), INVALID_PER_BATCH)):
            if k % 3 == 0:
                rows[index]["department_id"] = 999  # unknown_reference
            elif k % 3 == 1:
                rows[index]["datetime"] = "2021-02-30T10:00:00Z"  # impossible_datetime
            else:
                rows[index]["name"] = "   "  # missing
        due_rejects = INVALID_PER_BATCH
        if self.previous_last is not None:
            rows[0] = {**self.previous_last, "name": self.previous_last["name"] + " Jr"}
            due_rejects += 1
        self.previous_last = rows[-1]
        return rows, due_rejects


def run_client(
    number: int,
    base_url: str,
    token: str,
    stop_at: float,
    seed: int,
    tally: ClientTally,
) -> None:
    """Batches back to back until `stop_at`, each retried with its own Idempotency-Key until it
    gets an answer; what each answer says goes into `tally`."""
    maker = BatchMaker(number, seed)
    rng = random.Random(seed * 7919 + number)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    normal = httpx.Timeout(REQUEST_TIMEOUT, connect=5.0)
    losing = httpx.Timeout(REQUEST_TIMEOUT, connect=5.0, read=LOSING_READ_TIMEOUT)
    with httpx.Client(base_url=base_url, headers=headers) as client:
        batch = 0
        while time.monotonic() < stop_at:
            rows, due_rejects = maker.batch(batch)
            body = json.dumps({"rows": rows}, ensure_ascii=False).encode()
            key = f"reliability-client-{number}-batch-{batch}"
            started = time.monotonic()
            answer = _send_until_answered(client, body, key, rng, normal, losing, tally, started)
            tally.slowest_batch_seconds = max(
                tally.slowest_batch_seconds, time.monotonic() - started
            )
            rejected = {r["index"] for r in answer["rejected"]}
            due = (BATCH_ROWS - due_rejects, due_rejects, 0)
            got = (answer["inserted"], len(rejected), answer["skipped"])
            if got != due:
                tally.wrong_answers.append(
                    f"client {number} batch {batch}: inserted/rejected/skipped {got}, due {due}"
                )
            tally.ids |= {r["id"] for i, r in enumerate(rows) if i not in rejected}
            tally.inserted += answer["inserted"]
            tally.rejected += len(rejected)
            tally.skipped += answer["skipped"]
            tally.batches += 1
            batch += 1


def _send_until_answered(
    client: httpx.Client,
    body: bytes,
    key: str,
    rng: random.Random,
    normal: httpx.Timeout,
    losing: httpx.Timeout,
    tally: ClientTally,
    started: float,
) -> dict[str, Any]:
    """The same request, same key, until a 200: lost answers retried at once, 503s and
    connection errors after a short backoff."""
    failures = unexpected = attempts = 0
    while True:
        if time.monotonic() - started > BATCH_DEADLINE:
            raise BenchmarkFailed(
                f"{key}: no answer in {BATCH_DEADLINE:.0f} s: the service did not recover"
            )
        if failures or unexpected:
            time.sleep(min(1.0, 0.05 * 2**failures))
        lose = rng.random() < LOST_SHARE
        tally.requests += 1
        tally.retries += attempts > 0
        attempts += 1
        sent = time.monotonic()
        try:
            response = client.post(
                ROWS_PATH,
                content=body,
                headers={"Idempotency-Key": key},
                timeout=losing if lose else normal,
            )
        except httpx.ReadTimeout:
            if lose:
                tally.lost_answers += 1  # the batch may have landed; the retry will say
                continue
            tally.transport_errors["ReadTimeout"] += 1
            failures += 1
            continue
        except httpx.TransportError as exc:
            tally.transport_errors[type(exc).__name__] += 1
            failures += 1
            continue
        tally.statuses[response.status_code] += 1
        if response.status_code == 200:
            answer: dict[str, Any] = response.json()
            return answer
        if response.status_code == 503:
            tally.unavailable_seconds.append(time.monotonic() - sent)
            tally.unavailable_without_retry_after += "retry-after" not in response.headers
            failures += 1
            continue
        unexpected += 1
        tally.unexpected.append(f"{key}: HTTP {response.status_code}: {response.text[:300]}")
        if unexpected >= UNEXPECTED_LIMIT:
            raise BenchmarkFailed(
                f"{key}: {unexpected} answers neither 200 nor 503, last HTTP "
                f"{response.status_code}: {response.text[:500]}"
            )


class Watcher:
    """Polls one route from `pollers` threads, each every `every` s after its last answer:
    (sent, answered, outcome) of every request; a 503 without Retry-After is an outcome of its
    own. With `fresh`, each poll on a new connection, so uvicorn may hand it to any worker."""

    def __init__(
        self,
        base_url: str,
        path: str,
        pollers: int,
        every: float,
        headers: dict[str, str] | None = None,
        fresh: bool = False,
    ) -> None:
        self.base_url, self.path, self.every, self.headers = base_url, path, every, headers
        self.pollers = pollers
        self.limits = httpx.Limits(max_keepalive_connections=0) if fresh else httpx.Limits()
        self.seen: list[tuple[float, float, str]] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(pollers)
        ]

    def __enter__(self) -> Watcher:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _run(self, number: int) -> None:
        self._stop.wait(number * self.every / self.pollers)
        with httpx.Client(
            base_url=self.base_url, headers=self.headers, timeout=10.0, limits=self.limits
        ) as client:
            while not self._stop.is_set():
                sent = time.monotonic()
                try:
                    response = client.get(self.path)
                    outcome = str(response.status_code)
                    if response.status_code == 503 and "retry-after" not in response.headers:
                        outcome += " without Retry-After"
                except httpx.TransportError as exc:
                    outcome = type(exc).__name__
                self.seen.append((sent, time.monotonic(), outcome))
                self._stop.wait(self.every)

    def first_200_after(self, moment: float, timeout: float) -> float | None:
        """When the first 200 answered after `moment` came, waiting up to `timeout` for one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answers = [a for _, a, outcome in list(self.seen) if a >= moment and outcome == "200"]
            if answers:
                return min(answers)
            time.sleep(0.05)
        return None

    def last_failure_sent_after(self, moment: float) -> float | None:
        """How long after `moment` the last request that did not get a 200 was sent."""
        late = [
            sent - moment for sent, _, outcome in self.seen if sent >= moment and outcome != "200"
        ]
        return max(late) if late else None


def inject_faults(
    server_pid: int, base_url: str, token: str, started: float, seconds: float, faults: Faults
) -> None:
    """SIGKILL one uvicorn worker at KILL_WORKER_AT of the run, and stop the database for
    OUTAGE_SECONDS at OUTAGE_AT, polling /ready and API_POLL_PATH (with `token`) meanwhile."""
    outage_at = started + OUTAGE_AT * seconds
    time.sleep(max(0.0, started + KILL_WORKER_AT * seconds - time.monotonic()))
    before = uvicorn_workers(server_pid)
    faults.workers_before_kill = len(before)
    if not before:
        raise BenchmarkFailed("no uvicorn worker process found to kill")
    victim = before[0]
    victim.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    faults.worker_kills += 1
    faults.killed_at_seconds = killed - started
    print(f"  fault: SIGKILL worker {victim.pid} at {killed - started:.1f} s", flush=True)
    old = {p.pid for p in before}
    # Watch for uvicorn's replacement until the outage is due (and at least 10 s).
    deadline = max(outage_at, killed + 10.0)
    while time.monotonic() < deadline:
        new = [p for p in uvicorn_workers(server_pid) if p.pid not in old]
        if new:
            faults.replacement_seconds = time.monotonic() - killed
            print(
                f"  fault: uvicorn started worker {new[0].pid} "
                f"{faults.replacement_seconds:.1f} s after the kill",
                flush=True,
            )
            break
        time.sleep(0.05)
    else:
        print("  fault: no replacement worker seen (yet)", flush=True)

    time.sleep(max(0.0, outage_at - time.monotonic()))
    api_watcher = Watcher(
        base_url,
        API_POLL_PATH,
        API_POLLERS,
        API_POLL_SECONDS,
        headers={"Authorization": f"Bearer {token}"},
        fresh=True,
    )
    with Watcher(base_url, "/ready", READY_POLLERS, READY_POLL_SECONDS) as watcher, api_watcher:
        stopping = time.monotonic()
        faults.outage_at_seconds = stopping - started
        stop_embedded(PG_HOME)
        stopped = time.monotonic()
        faults.stop_seconds = stopped - stopping
        print(
            f"  fault: database stopped at {stopping - started:.1f} s "
            f"(stop took {faults.stop_seconds:.1f} s)",
            flush=True,
        )
        time.sleep(faults.outage_seconds)
        restarting = time.monotonic()
        start_embedded(PG_HOME)
        up = time.monotonic()
        faults.database_restarts += 1
        faults.start_seconds = up - restarting
        faults.down_seconds = up - stopping
        back = watcher.first_200_after(restarting, BATCH_DEADLINE)
        api_back = api_watcher.first_200_after(restarting, BATCH_DEADLINE)
    faults.ready_polls = [
        (round(sent - stopping, 3), round(answered - stopping, 3), outcome)
        for sent, answered, outcome in watcher.seen
    ]
    # Polls sent once the stop had begun and answered once it was over, before the start began.
    faults.ready_while_down = Counter(
        outcome
        for sent, answered, outcome in watcher.seen
        if stopping <= sent and stopped <= answered < restarting
    )
    faults.ready_recovery_seconds = None if back is None else back - restarting
    faults.ready_503_sent_after_up = watcher.last_failure_sent_after(up)
    faults.api_polls = [
        (round(sent - stopping, 3), round(answered - stopping, 3), outcome)
        for sent, answered, outcome in api_watcher.seen
    ]
    # Sent once the database had stopped, before its start began: it was down all along.
    while_down = [(s, a, o) for s, a, o in api_watcher.seen if stopped <= s and a < restarting]
    faults.api_while_down = Counter(outcome for _, _, outcome in while_down)
    faults.api_slowest_503 = max(
        (a - s for s, a, o in api_watcher.seen if o.startswith("503")), default=None
    )
    faults.api_recovery_seconds = None if api_back is None else api_back - restarting
    faults.api_503_sent_after_up = api_watcher.last_failure_sent_after(up)
    print(
        f"  fault: database started again {faults.down_seconds:.1f} s after the stop "
        f"(start took {faults.start_seconds:.1f} s); /ready answers while down "
        f"{dict(faults.ready_while_down)}; 200 again "
        + (
            f"{faults.ready_recovery_seconds:.1f} s after the start began"
            if back is not None
            else "NEVER"
        ),
        flush=True,
    )
    print(
        f"  fault: {API_POLL_PATH} while down {dict(faults.api_while_down)}, slowest "
        f"503 {faults.api_slowest_503 or 0:.2f} s; 200 again "
        + (
            f"{faults.api_recovery_seconds:.2f} s after the start began"
            if api_back is not None
            else "NEVER"
        ),
        flush=True,
    )
    if back is None or api_back is None:
        raise BenchmarkFailed(
            "the service never answered 200 after the database came back: /ready "
            f"{faults.ready_polls[-5:]}, {API_POLL_PATH} {faults.api_polls[-5:]}"
        )
    if set(faults.api_while_down) != {"503"}:
        raise BenchmarkFailed(
            f"{API_POLL_PATH} did not answer 503 with Retry-After (only) while the database was "
            f"down: {dict(faults.api_while_down)}"
        )
    if set(faults.ready_while_down) != {"503"}:
        raise BenchmarkFailed(
            "/ready did not answer 503 (only) while the database was down: "
            f"{dict(faults.ready_while_down)}; every poll (s after the stop): {faults.ready_polls}"
        )


def own_postgres() -> str:
    """A fresh embedded PostgreSQL under bench/data (left stopped by an earlier run or not),
    with hrdata's tables and the departments and jobs of data/challenge."""
    stop_embedded(PG_HOME)
    shutil.rmtree(PG_HOME, ignore_errors=True)
    url = start_embedded(PG_HOME)
    harness.prepare_database(url)
    return url


def make_keys(url: str) -> dict[str, str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return {
            role: create_key(conn, role, f"bench/reliability.py {role}")[1]
            for role in ("ingest", "read", "admin")
        }


def clients_under_faults(
    args: argparse.Namespace, server: harness.Server, url: str, tokens: dict[str, str]
) -> ClientsResult:
    postgres = figures.setting(url, "server_version")
    result = ClientsResult(
        seconds=args.seconds,
        wall_seconds=0.0,
        clients=args.clients,
        workers=args.workers,
        uvicorn=version("uvicorn"),
        postgres=postgres,
        faults=Faults(outage_seconds=args.outage_seconds),
        tallies=[ClientTally() for _ in range(args.clients)],
    )
    errors: list[str] = []

    def guarded(target: Callable[..., None], *arguments: Any) -> Callable[[], None]:
        def run() -> None:
            try:
                target(*arguments)
            except BaseException as exc:  # reported; the run fails
                errors.append(f"{type(exc).__name__}: {exc}")

        return run

    started = time.monotonic()
    stop_at = started + args.seconds
    threads = [
        threading.Thread(
            target=guarded(
                run_client, n, server.base_url, tokens["ingest"], stop_at, args.seed, tally
            )
        )
        for n, tally in enumerate(result.tallies)
    ]
    threads.append(
        threading.Thread(
            target=guarded(
                inject_faults,
                server.process.pid,
                server.base_url,
                tokens["read"],
                started,
                args.seconds,
                result.faults,
            )
        )
    )
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall_seconds = time.monotonic() - started
    result.errors = errors
    result.workers_at_end = len(uvicorn_workers(server.process.pid))

    with psycopg.connect(url) as conn:
        stored = {
            row[0]
            for row in conn.execute(sql.SQL("SELECT id FROM {}").format(sql.Identifier(TABLE)))
        }
    told: set[int] = set().union(*(t.ids for t in result.tallies))
    result.told_inserted = result.total("inserted")
    result.told_ids = len(told)
    result.found_rows = len(stored)
    result.missing = len(told - stored)
    result.extra = len(stored - told)
    _show_clients(result)
    problems = list(errors)
    if result.missing or result.extra or result.told_inserted != result.found_rows:
        problems.append(
            f"told {result.told_inserted:,} rows inserted ({result.told_ids:,} ids), found "
            f"{result.found_rows:,}: {result.missing:,} missing "
            f"(e.g. {sorted(told - stored)[:10]}), {result.extra:,} extra "
            f"(e.g. {sorted(stored - told)[:10]})"
        )
    for tally in result.tallies:
        problems += tally.wrong_answers[:5] + tally.unexpected[:5]
    if without := result.total("unavailable_without_retry_after"):
        problems.append(f"{without} answers 503 without Retry-After")
    if problems:
        raise BenchmarkFailed("clients under faults: " + "; ".join(problems))
    return result


def _show_clients(r: ClientsResult) -> None:
    f = r.faults
    print(
        f"  {r.total('batches'):,} batches, {r.total('requests'):,} requests, answers "
        f"{dict(sorted(r.statuses().items()))}, transport errors {dict(r.transport_errors())}, "
        f"{r.total('lost_answers'):,} lost answers, {r.total('retries'):,} retries",
        flush=True,
    )
    print(
        f"  faults: {f.worker_kills} worker kill(s), {f.database_restarts} database restart(s) "
        f"({f.down_seconds:.1f} s down); workers alive at the end: {r.workers_at_end}",
        flush=True,
    )
    print(
        f"  rows told inserted {r.told_inserted:,}, ids told stored {r.told_ids:,}, found "
        f"{r.found_rows:,}: missing {r.missing}, extra {r.extra}",
        flush=True,
    )


# --- 2. migration killed at five points --------------------------------------------------------


@dataclass
class KillRun:
    point: str
    seen: str  # what the kill point looked like when the kill was sent
    seconds_to_kill: float
    after_kill: dict[str, int]
    rerun_seconds: float
    rerun_inserted: dict[str, int]
    found: dict[str, int]
    killed_status: str
    rerun_status: str


@dataclass
class MigrationResult:
    data: Dataset
    baseline_seconds: float
    runs: list[KillRun]


def _exists(db: psycopg.Connection, query: str, params: tuple[Any, ...], seen: str) -> str | None:
    try:
        return seen if db.execute(query, params).fetchone() is not None else None
    except psycopg.errors.UndefinedTable:
        return None  # the run has not created its tables yet


def kill_points(
    db: psycopg.Connection, valid_rows: int
) -> list[tuple[str, Callable[[], str | None]]]:
    def recorded(table: str) -> Callable[[], str | None]:
        query = "SELECT 1 FROM load_run_files WHERE table_name = %s"
        return lambda: _exists(db, query, (table,), f"{table} file recorded")

    return [
        ("as the run starts", lambda: _exists(db, "SELECT 1 FROM load_runs", (), "run recorded")),
        ("after departments committed", recorded("departments")),
        ("after jobs committed", recorded("jobs")),
        ("early in the hired_employees COPY", copied(db, 1)),
        ("late in the hired_employees COPY", copied(db, valid_rows // 2)),
    ]


def migration_killed(
    args: argparse.Namespace, command: list[str], url: str, data: Dataset
) -> MigrationResult:
    """A clean run for reference, then for each kill point: fresh schema, migrate, SIGKILL at
    the point, rows per table, migrate again, rows per table and load_runs."""
    expected = {t: int(data.expected["tables"][t]["inserted"]) for t in TABLES}
    source = str(data.path)
    harness.reset(url)
    baseline_seconds, summary = harness.run_hrdata(
        command, url, HOME, "migrate", source, "--json", "--quiet"
    )
    harness.verify(summary, data.expected)
    reference = harness.fingerprint(url)
    print(f"  uninterrupted run: {baseline_seconds:.1f} s, summary as expected", flush=True)
    runs = []
    with psycopg.connect(url, autocommit=True) as db:
        for point, condition in kill_points(db, data.valid_rows):
            harness.reset(url)
            started = time.perf_counter()
            process = start_hrdata(command, url, "migrate", source, "--json", "--quiet")
            seen = wait_for(condition, process, f"the kill point {point!r}")
            sigkill(process, db)
            seconds_to_kill = time.perf_counter() - started
            after_kill = {t: count(db, t) for t in TABLES}
            half = [t for t in TABLES if after_kill[t] not in (0, expected[t])]
            if half:
                raise BenchmarkFailed(f"killed {point}: half-loaded table(s) {half}: {after_kill}")
            rerun_seconds, summary = harness.run_hrdata(
                command, url, HOME, "migrate", source, "--json", "--quiet"
            )
            found = {t: count(db, t) for t in TABLES}
            statuses: dict[str, str] = dict(
                db.execute("SELECT run_id, status FROM load_runs").fetchall()
            )
            rerun_status = statuses.pop(summary["run_id"], "absent")
            killed_status = ", ".join(sorted(statuses.values())) or "absent"
            run = KillRun(
                point,
                seen,
                seconds_to_kill,
                after_kill,
                rerun_seconds,
                {t: int(summary["tables"].get(t, {}).get("inserted", 0)) for t in TABLES},
                found,
                killed_status,
                rerun_status,
            )
            runs.append(run)
            print(
                f"  killed {point} ({seen}, {seconds_to_kill:.2f} s in): rows then {after_kill}; "
                f"rerun {rerun_seconds:.1f} s inserted {run.rerun_inserted}; found {found}; "
                f"killed run {killed_status}",
                flush=True,
            )
            problems = []
            if found != expected:
                problems.append(f"rows {found}, expected {expected}")
            if harness.fingerprint(url) != reference:
                problems.append("hired_employees differs from the uninterrupted run's")
            if (killed_status, rerun_status) != ("interrupted", "succeeded"):
                problems.append(f"load_runs: killed run {killed_status}, rerun {rerun_status}")
            if problems:
                raise BenchmarkFailed(f"migration killed {point}: " + "; ".join(problems))
    return MigrationResult(data, baseline_seconds, runs)


# --- 3. restore killed midway ------------------------------------------------------------------


@dataclass
class RestoreResult:
    backup_id: str
    backup_rows: int
    backup_seconds: float
    deleted: int
    rows_before_restore: int
    seen: str
    seconds_to_kill: float
    rows_after_kill: int
    unchanged_after_kill: bool
    restore_seconds: float
    rows_after_restore: int
    equal_to_backup: bool


def restore_killed(command: list[str], url: str) -> RestoreResult:
    """Back up hired_employees (as the migration left it), delete a third, kill a restore
    during its COPY, check nothing changed, restore again, check it equals the backup."""
    shutil.rmtree(HOME / "backups", ignore_errors=True)
    original = harness.checksum(url)
    backup_seconds, manifest = harness.run_hrdata(
        command, url, HOME, "backup", "--tables", TABLE, "--json"
    )
    backup_id = manifest["backup_id"]
    backup_rows = int(manifest["tables"][TABLE]["rows"])
    if backup_rows != original[0]:
        raise BenchmarkFailed(
            f"backup {backup_id} holds {backup_rows} rows, the table {original[0]}"
        )
    with psycopg.connect(url, autocommit=True) as db:
        deleted = db.execute(
            sql.SQL("DELETE FROM {} WHERE id % 3 = 0").format(sql.Identifier(TABLE))
        ).rowcount
        before = harness.checksum(url)
        print(
            f"  backup {backup_id}: {backup_rows:,} rows in {backup_seconds:.1f} s; "
            f"{deleted:,} rows deleted, {before[0]:,} left",
            flush=True,
        )
        started = time.perf_counter()
        process = start_hrdata(command, url, "restore", TABLE, "--backup", backup_id, "--json")
        seen = wait_for(copied(db, backup_rows // 2), process, "the restore's COPY past half")
        sigkill(process, db)
        seconds_to_kill = time.perf_counter() - started
    after_kill = harness.checksum(url)
    print(
        f"  restore killed {seconds_to_kill:.2f} s in ({seen}): {after_kill[0]:,} rows, "
        f"{'unchanged' if after_kill == before else 'CHANGED'}",
        flush=True,
    )
    if after_kill != before:
        raise BenchmarkFailed(
            f"a killed restore changed {TABLE}: {before[0]} rows (md5 {before[1]}) before, "
            f"{after_kill[0]} (md5 {after_kill[1]}) after"
        )
    restore_seconds, _ = harness.run_hrdata(
        command, url, HOME, "restore", TABLE, "--backup", backup_id, "--json"
    )
    restored = harness.checksum(url)
    print(
        f"  restored again in {restore_seconds:.1f} s: {restored[0]:,} rows, "
        f"{'equal to' if restored == original else 'DIFFERENT from'} the backup's",
        flush=True,
    )
    if restored != original:
        raise BenchmarkFailed(
            f"restore of {backup_id}: {restored[0]} rows (md5 {restored[1]}), the backup holds "
            f"{original[0]} (md5 {original[1]})"
        )
    return RestoreResult(
        backup_id,
        backup_rows,
        backup_seconds,
        deleted,
        before[0],
        seen,
        seconds_to_kill,
        after_kill[0],
        True,
        restore_seconds,
        restored[0],
        True,
    )


# --- 4. hostile requests -----------------------------------------------------------------------


@dataclass
class HostileCase:
    name: str
    good: tuple[str, ...]  # outcomes that are right for it
    outcomes: Counter[str] = field(default_factory=Counter)


@dataclass
class HostileResult:
    repeats: int
    cases: list[HostileCase]
    rss_before: dict[int, float]
    rss_after_length: dict[int, float]  # after the 50 MB bodies with a Content-Length
    rss_after: dict[int, float]  # after the chunked ones too
    sql_rows_intact: int = 0
    alive_after: bool = False

    @property
    def growth(self) -> float:
        """The largest RSS growth of one server process across the 50 MB bodies, in MB."""
        shared = set(self.rss_before) & set(self.rss_after)
        return max((self.rss_after[p] - self.rss_before[p] for p in shared), default=0.0)


def _row(row_id: int, name: str = "Hostile Row") -> dict[str, Any]:
    return {
        "id": row_id,
        "name": name,
        "datetime": "2021-06-01T10:00:00Z",
        "department_id": 1,
        "job_id": 1,
    }


def _outcome(send: Callable[[], httpx.Response]) -> str:
    try:
        response = send()
    except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
        return f"closed ({type(exc).__name__})"
    if response.status_code == 200 and response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        inserted = response.json().get("inserted")
        if inserted is not None:
            return f"200, {inserted} inserted"
    return str(response.status_code)


def _raw_get(base_url: str, path: str, token: str) -> httpx.Response:
    """GET with the path sent as is (httpx would resolve `..` segments before sending)."""
    host, port = base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        answer = conn.getresponse()
        body = answer.read()
    finally:
        conn.close()
    return httpx.Response(answer.status, content=body)


def hostile(
    base_url: str, server_pid: int, url: str, tokens: dict[str, str], repeats: int
) -> HostileResult:
    """Every hostile request `repeats` times against the running service, answers counted."""
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    json_type = {**admin, "Content-Type": "application/json"}
    next_id = iter(range(HOSTILE_ID_BASE, HOSTILE_ID_BASE + 1_000_000))
    big = b'{"rows": [' + b" " * FIFTY_MB + b"]}"

    def chunked() -> Iterator[bytes]:
        yield b'{"rows": ['
        for _ in range(FIFTY_MB // (1 << 20)):
            yield b" " * (1 << 20)
        yield b"]}"

    deep = b'{"rows": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    traversals = [
        "/v1/backups/../../etc/passwd",
        "/v1/backups/..%2F..%2Fetc%2Fpasswd",
        "/v1/backups/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/v1/backups/20211107T000000Z-abcdef/../../x",
        "/v1/backups//etc/passwd",
    ]
    good_4xx = ("400", "404", "422")
    rejected_200 = "200, 0 inserted"
    with httpx.Client(base_url=base_url, timeout=120) as client:

        def post(
            body: Any, headers: dict[str, str], path: str = ROWS_PATH
        ) -> Callable[[], httpx.Response]:
            return lambda: client.post(path, content=body, headers=headers)

        def invalid_json() -> httpx.Response:
            body = json.dumps({"rows": [_row(next(next_id), "PLACEHOLDER")]}).encode()
            return client.post(
                ROWS_PATH, content=body.replace(b"PLACEHOLDER", b"\xff\xfe"), headers=json_type
            )

        def invalid_csv() -> httpx.Response:
            body = (
                b"id,name,datetime,department_id,job_id\r\n"
                + f"{next(next_id)},".encode()
                + b"\xff\xfe Name,2021-06-01T10:00:00Z,1,1\r\n"
            )
            return client.post(
                ROWS_PATH, content=body, headers={**admin, "Content-Type": "text/csv"}
            )

        def sql_text() -> httpx.Response:
            return client.post(
                ROWS_PATH, json={"rows": [_row(next(next_id), SQL_NAME)]}, headers=admin
            )

        traversal_index = iter(range(10**6))

        def traversal_get() -> httpx.Response:
            path = traversals[next(traversal_index) % len(traversals)]
            return _raw_get(base_url, path, tokens["admin"])

        def traversal_restore() -> httpx.Response:
            return client.post(
                f"/v1/tables/{TABLE}/restore",
                json={"backup_id": "../../../etc/passwd"},
                headers=admin,
            )

        def long_key(length: int) -> Callable[[], httpx.Response]:
            def send() -> httpx.Response:
                return client.post(
                    ROWS_PATH,
                    json={"rows": [_row(next(next_id))]},
                    headers={**admin, "Idempotency-Key": "k" * length},
                )

            return send

        too_many = json.dumps({"rows": [_row(HOSTILE_ID_BASE - 2000 + i) for i in range(1001)]})
        plan: list[tuple[HostileCase, Callable[[], httpx.Response]]] = [
            (
                HostileCase("50 MB body with Content-Length", ("413", "closed (WriteError)")),
                post(big, json_type),
            ),
            (
                HostileCase("50 MB body, chunked (no length)", ("413", "closed (WriteError)")),
                lambda: client.post(ROWS_PATH, content=chunked(), headers=json_type),
            ),
            (HostileCase("JSON nested 100,000 levels", ("422",)), post(deep, json_type)),
            (HostileCase("invalid UTF-8 in JSON", ("422", rejected_200)), invalid_json),
            (HostileCase("invalid UTF-8 in CSV", ("422", rejected_200)), invalid_csv),
            (HostileCase("SQL in a string value", ("200, 1 inserted",)), sql_text),
            (HostileCase("path traversal in GET /v1/backups/{id}", good_4xx), traversal_get),
            (HostileCase("path traversal in a restore's backup_id", ("422",)), traversal_restore),
            (HostileCase("Idempotency-Key of 300 characters", ("422",)), long_key(300)),
            (
                HostileCase("Idempotency-Key of 64 KiB", ("400", "413", "422", "431")),
                long_key(64 << 10),
            ),
            (HostileCase("1,001 rows", ("422",)), post(too_many.encode(), json_type)),
            (HostileCase("empty batch", ("422",)), post(b'{"rows": []}', json_type)),
        ]
        pids_before = {p.pid for p in uvicorn_workers(server_pid)}
        rss: list[dict[int, float]] = [rss_mb(server_pid)]  # before, after each 50 MB case
        for index, (case, send) in enumerate(plan):
            for _ in range(repeats):
                case.outcomes[_outcome(send)] += 1
            if index < 2:
                rss.append(rss_mb(server_pid))
            print(f"  {case.name}: {dict(case.outcomes)}", flush=True)
        alive = (
            httpx.get(f"{base_url}/health", timeout=10).status_code == 200
            and httpx.get(f"{base_url}/ready", timeout=10).status_code == 200
            and {p.pid for p in uvicorn_workers(server_pid)} == pids_before
        )
    with psycopg.connect(url) as conn:
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE id >= %s AND name = %s").format(
                sql.Identifier(TABLE)
            ),
            (HOSTILE_ID_BASE, SQL_NAME),
        ).fetchone()
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE tablename = ANY(%s)", (list(TABLES),)
        ).fetchone()
    result = HostileResult(repeats, [c for c, _ in plan], rss[0], rss[1], rss[2])
    result.sql_rows_intact = int(row[0]) if row and tables and tables[0] == len(TABLES) else 0
    result.alive_after = alive
    print(
        f"  server RSS (MB) before the 50 MB bodies {_rss(rss[0])}, after those with a length "
        f"{_rss(rss[1])}, after the chunked ones {_rss(rss[2])}; largest growth "
        f"{result.growth:+.1f} MB; alive after: {alive}",
        flush=True,
    )
    problems = [
        f"{c.name}: {outcome} x{n}"
        for c in result.cases
        for outcome, n in c.outcomes.items()
        if outcome not in c.good
    ]
    if not alive:
        problems.append("the server is not alive and ready with the same workers afterwards")
    if result.growth >= RSS_GROWTH_LIMIT_MB:
        problems.append(f"a server process grew by {result.growth:.0f} MB across the 50 MB bodies")
    sql_case = next(c for c in result.cases if c.name == "SQL in a string value")
    if result.sql_rows_intact != sql_case.outcomes["200, 1 inserted"]:
        problems.append(f"SQL text stored as is in {result.sql_rows_intact} rows only")
    if problems:
        raise BenchmarkFailed("hostile requests: " + "; ".join(problems))
    return result


def _rss(found: dict[int, float]) -> str:
    return ", ".join(f"{mb:.0f}" for _, mb in sorted(found.items()))


# --- the benchmark -----------------------------------------------------------------------------


@dataclass
class Results:
    started: datetime
    seconds: float = 0.0
    background_busy: float = 0.0
    clients: ClientsResult | None = None
    hostile: HostileResult | None = None
    migration: MigrationResult | None = None
    restore: RestoreResult | None = None


def benchmark(args: argparse.Namespace, command: list[str], results: Results) -> None:
    """Scenarios 1 and 4 on the embedded PostgreSQL, then 2 and 3 on the server."""
    shutil.rmtree(HOME, ignore_errors=True)  # reject logs and backups of earlier runs
    HOME.mkdir(parents=True)
    print("== 1. clients under faults", flush=True)
    pg_url = own_postgres()
    print(f"  embedded PostgreSQL under {harness.relative(PG_HOME)}", flush=True)
    try:
        tokens = make_keys(pg_url)
        # With the default HRDATA_CONNECT_TIMEOUT_SECONDS (10 s: harness.hrdata_env passes no
        # HRDATA_* of the shell): no request may wait for it while the database is down.
        with harness.serve(command, pg_url, HOME, args.workers) as server:
            print(
                f"  hrdata serve --workers {args.workers} (pid {server.process.pid}, uvicorn "
                f"{version('uvicorn')}) at {server.base_url}; {args.clients} clients for "
                f"{args.seconds:g} s",
                flush=True,
            )
            results.clients = clients_under_faults(args, server, pg_url, tokens)
            print("== 4. hostile requests (same service)", flush=True)
            results.hostile = hostile(
                server.base_url, server.process.pid, pg_url, tokens, args.hostile_repeats
            )
    finally:
        stop_embedded(PG_HOME)

    print("== 2. migration killed at five points, then rerun", flush=True)
    data = harness.dataset(args.rows, args.seed, args.regenerate)
    url = harness.recreate_database(args.server_url, args.database)
    print(f"  database {args.database} (re)created on {args.server_url}", flush=True)
    results.migration = migration_killed(args, command, url, data)
    print("== 3. restore killed midway", flush=True)
    results.restore = restore_killed(command, url)


# --- the report --------------------------------------------------------------------------------


def _statuses(counter: Counter[Any]) -> str:
    return ", ".join(f"{k}: {v:,}" for k, v in sorted(counter.items(), key=str)) or "none"


def _poll_runs(polls: list[tuple[float, float, str]]) -> str:
    """Polls (sent, answered, outcome) in the order sent, as runs of one outcome: when the
    run's polls were sent, how many, and the slowest answer."""
    runs: list[tuple[float, float, str, int, float]] = []
    for sent, answered, outcome in sorted(polls):
        if runs and runs[-1][2] == outcome:
            first, _, _, n, slowest = runs[-1]
            runs[-1] = (first, sent, outcome, n + 1, max(slowest, answered - sent))
        else:
            runs.append((sent, sent, outcome, 1, answered - sent))
    return ", then ".join(
        f"{outcome} for {n} sent {first:.2f} to {last:.2f} (slowest answer {slowest:.2f} s)"
        for first, last, outcome, n, slowest in runs
    )


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def document(results: Results, args: argparse.Namespace, url: str) -> str:
    """docs/reliability.md, whole."""
    c, h, m, r = results.clients, results.hostile, results.migration, results.restore
    assert c is not None and h is not None and m is not None and r is not None
    f = c.faults
    unavailable = [seconds for t in c.tallies for seconds in t.unavailable_seconds]
    expected = {t: int(m.data.expected["tables"][t]["inserted"]) for t in TABLES}
    lines = [
        "# Reliability",
        "",
        figures.written_by("`bench/reliability.py`"),
        "",
        "The test suite (`make test`) checks each of these behaviours on every run, small and "
        "one at a time: `tests/test_load.py` (clients with lost answers and idempotent retries), "
        "`tests/test_faults.py` (a database that goes away and comes back), "
        "`tests/test_crash.py` (a migration killed at any point) and `tests/api/test_hostile.py` "
        "(huge, deep and crafted requests). This benchmark runs the same faults together, "
        "longer and on more data, and records what happened: every request, every fault "
        "injected, and the rows expected against the rows found. Any row missing or extra, any "
        "5xx, or a service that does not recover fails the run, and then this file is not "
        "written.",
        "",
        f"{figures.dated(results.started)}; the whole run took {results.seconds / 60:.1f} minutes",
        f"- Machine: {figures.machine()}; {results.background_busy:.0%} busy in the 2 s before "
        "the run",
        f"- Scenarios 1 and 4: embedded PostgreSQL {c.postgres} of the benchmark's own "
        f"(`hrdata.db.start_embedded`), `hrdata serve --workers {c.workers}` (uvicorn "
        f"{c.uvicorn}) with the default `HRDATA_CONNECT_TIMEOUT_SECONDS` (10 s), clients, server "
        "and database on the same machine",
        f"- Scenarios 2 and 3: {figures.server(url)}, a database of the benchmark's own",
        "",
        "## 1. Clients under faults",
        "",
        f"{c.clients} client threads, each with its own keep-alive `httpx` client, post "
        f"batches of {BATCH_ROWS:,} hired_employees rows for {c.seconds:g} s (the last "
        f"batches finish after; {c.wall_seconds:.0f} s in all). Each batch has "
        f"{INVALID_PER_BATCH} invalid rows (unknown department, impossible date, blank name) "
        "and, from the second batch on, a first row that repeats the id of the client's "
        "previous batch with another name (a conflict), and its own `Idempotency-Key`. The "
        "client sends the same request with the same key again until it gets a 200: at once "
        f"when the answer was lost ({LOST_SHARE:.0%} of attempts wait only "
        f"{LOSING_READ_TIMEOUT * 1000:g} ms for it, so the batch may land while its answer is "
        "lost), after a short backoff on a 503 or a connection error. Meanwhile one uvicorn "
        f"worker is killed with SIGKILL at {KILL_WORKER_AT:.0%} of the time and the database "
        f"is stopped (`pg_ctl stop -m fast`) at {OUTAGE_AT:.0%} and started again "
        f"{f.outage_seconds:g} s later, while `/ready` is polled every "
        f"{READY_POLL_SECONDS:g} s and `GET {API_POLL_PATH}` (a read key) every "
        f"{API_POLL_SECONDS:g} s from {API_POLLERS} threads, each request on a new connection "
        "(so on either worker).",
        "",
        "| figure | value |",
        "|---|---|",
        f"| batches answered | {c.total('batches'):,} |",
        f"| requests sent | {c.total('requests'):,} |",
        f"| answers by status | {_statuses(c.statuses())} |",
        f"| transport errors (no answer: connection refused, reset, closed) | "
        f"{sum(c.transport_errors().values()):,} ({_statuses(c.transport_errors())}) |",
        f"| answers lost on purpose (tiny read timeout) | {c.total('lost_answers'):,} |",
        f"| retries (requests after a batch's first) | {c.total('retries'):,} |",
        f"| slowest batch, first attempt to its 200 | "
        f"{max(t.slowest_batch_seconds for t in c.tallies):.1f} s |",
        f"| uvicorn workers killed (SIGKILL) | {f.worker_kills} at {f.killed_at_seconds:.1f} s |",
        "| killed worker replaced by uvicorn | "
        + (
            f"yes, a new worker process {f.replacement_seconds:.1f} s after the kill"
            if f.replacement_seconds is not None
            else "**no** replacement seen"
        )
        + f"; {c.workers_at_end} of {c.workers} workers alive at the end |",
        f"| database restarts | {f.database_restarts} at {f.outage_at_seconds:.1f} s: "
        f"{f.down_seconds:.1f} s from the stop call to the start returning (stop "
        f"{f.stop_seconds:.1f} s, {f.outage_seconds:g} s stopped, start {f.start_seconds:.1f} s) |",
        "| `/ready` answers while the database was down (polls sent after the stop began, "
        f"answered after it ended and before the start) | {_statuses(f.ready_while_down)} |",
        "| `/ready` 200 again, after the start began | "
        + (
            f"{f.ready_recovery_seconds:.1f} s"
            if f.ready_recovery_seconds is not None
            else "**never**"
        )
        + " |",
        "| `/ready` still 503 for a poll sent after the database was up | "
        + (
            f"yes, one sent {f.ready_503_sent_after_up:.1f} s after"
            if f.ready_503_sent_after_up is not None
            else "no"
        )
        + " |",
        f"| `GET {API_POLL_PATH}` answers while the database was down (sent after the stop "
        f"returned, answered before the start) | {_statuses(f.api_while_down)}; the slowest "
        f"503 (of any sent after the stop began) {f.api_slowest_503 or 0:.2f} s after it was "
        "sent |",
        f"| batches answered 503 (all with `Retry-After`: "
        f"{_yes(not c.total('unavailable_without_retry_after'))}) | "
        f"{len(unavailable):,}; the slowest {max(unavailable, default=0.0):.2f} s after it "
        "was sent (batches in flight at the stop included) |",
        f"| `GET {API_POLL_PATH}` 200 again, after the start began | "
        + (
            f"{f.api_recovery_seconds:.2f} s (the start took {f.start_seconds:.2f} s)"
            if f.api_recovery_seconds is not None
            else "**never**"
        )
        + " |",
        f"| `GET {API_POLL_PATH}` still not 200 for a request sent after the database was up | "
        + (
            f"yes, the last sent {f.api_503_sent_after_up:.2f} s after"
            if f.api_503_sent_after_up is not None
            else "no"
        )
        + " |",
        f"| rows rejected, as the answers said (invalid and conflicts) | {c.total('rejected'):,} |",
        f"| rows the clients were told were inserted (sum of `inserted`) | {c.told_inserted:,} |",
        f"| ids the clients were told were stored | {c.told_ids:,} |",
        f"| rows found in hired_employees | {c.found_rows:,} |",
        f"| missing / extra | {c.missing} / {c.extra} |",
        "",
        "Polls around the outage, by outcome in the order sent (s after the stop call): "
        f"`/ready` {_poll_runs(f.ready_polls)}; `GET {API_POLL_PATH}` {_poll_runs(f.api_polls)}"
        + f". The database was up again {f.down_seconds:.1f} s after the stop call. No request "
        "waits for the connect timeout while the database is down: an API process that cannot "
        "make a connection (psycopg_pool gives up at the second attempt in a row) marks the "
        "database down; from then on, and within 0.25 s for a request already waiting for a "
        "connection, requests get 503 with `Retry-After: 1` at once, while a prober tries the "
        "database every 0.25 s and lets requests in again as soon as it answers "
        "(`hrdata.api.database`). Each worker process finds this out for itself, the first "
        "request after the stop on each finding the pool's connections dead. Tested by "
        "`tests/test_faults.py::test_while_the_database_is_down_requests_get_503_with_retry_"
        "after_without_waiting_for_it` and `::test_once_the_database_is_back_the_service_serves_"
        "again_without_a_restart` (a 30 s connect timeout, clients that allow 5 s).",
        "",
        "uvicorn's supervisor checks its workers every 0.5 s and starts a new one in place of "
        "a dead one; when a worker dies while the supervisor is waiting for its answer to a "
        "health check, it first waits for that check's timeout (5 s).",
        "",
        "Every 200 carried exactly the batch's due counts ("
        f"{BATCH_ROWS - INVALID_PER_BATCH - 1:,} inserted, {INVALID_PER_BATCH + 1} rejected, "
        "0 skipped from the second batch on), so no retry inserted twice and no retried batch "
        "lost its first answer; no answer was other than 200 or 503.",
        "",
        "## 2. Migration killed at five points, then run again",
        "",
        f"`hrdata migrate {harness.relative(m.data.path)} --json --quiet` of "
        f"`bench/generate.py --rows {m.data.rows} --seed {args.seed}` ({m.data.rows:,} "
        f"hired_employees lines, {expected[TABLE]:,} valid; {expected['departments']} "
        f"departments, {expected['jobs']} jobs) as a subprocess, on an emptied schema each "
        "time; SIGKILL when the point is seen (polled every 5 ms: `load_runs`, "
        "`load_run_files`, `pg_stat_progress_copy`), then the rows of each table counted, "
        "the same command run again to the end, the rows counted again and compared with "
        "the generator's `expected.json`, hired_employees compared (aggregates of every "
        f"column) with an uninterrupted run's ({m.baseline_seconds:.1f} s), and `load_runs` "
        "read.",
        "",
        "| killed | seen when killed | s after start | rows right after the kill "
        "(departments / jobs / employees) | rerun s | rerun inserted | rows found "
        "| as expected | killed run marked |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in m.runs:
        lines.append(
            f"| {run.point} | {run.seen} | {run.seconds_to_kill:.2f} "
            f"| {' / '.join(f'{run.after_kill[t]:,}' for t in TABLES)} | {run.rerun_seconds:.1f} "
            f"| {' / '.join(f'{run.rerun_inserted[t]:,}' for t in TABLES)} "
            f"| {' / '.join(f'{run.found[t]:,}' for t in TABLES)} "
            f"| {_yes(run.found == expected)} | {run.killed_status} |"
        )
    lines += [
        "",
        "A point is seen by polling, so the kill lands on it or just after it (departments and "
        "jobs are a few hundred rows: the next file may have committed too); the rows right "
        "after the kill show where it landed. Each file loads in one transaction, so right "
        "after a kill every table holds either nothing or all of its file (anything else "
        "fails the run), and the rerun loads exactly what is missing.",
        "",
        "## 3. Restore killed midway",
        "",
        f"`hrdata backup --tables {TABLE}` of the table the migration left "
        f"({r.backup_rows:,} rows, {r.backup_seconds:.1f} s), then {r.deleted:,} rows deleted "
        f"(`id % 3 = 0`, {r.rows_before_restore:,} left), then "
        f"`hrdata restore {TABLE} --backup ID` killed with SIGKILL during its COPY "
        f"({r.seen}, {r.seconds_to_kill:.1f} s after it started). Tables compared by row count "
        "and md5 of every row as text in id order.",
        "",
        "| check | result |",
        "|---|---|",
        f"| rows right after the killed restore | {r.rows_after_kill:,} |",
        f"| table exactly as before the restore | {_yes(r.unchanged_after_kill)} |",
        f"| restore run again | {r.restore_seconds:.1f} s, {r.rows_after_restore:,} rows |",
        f"| table exactly the backup's rows | {_yes(r.equal_to_backup)} |",
        "",
        "## 4. Hostile requests",
        "",
        f"Against the service of scenario 1 once its clients were done, {h.repeats} of each "
        "(all with an admin key, which may call every route). "
        '"closed" means the server answered 413 and closed the connection before the '
        "client had finished sending, so the client saw no answer.",
        "",
        "| request | answers | all as they should be |",
        "|---|---|---|",
    ]
    for case in h.cases:
        ok = all(outcome in case.good for outcome in case.outcomes)
        lines.append(f"| {case.name} | {_statuses(case.outcomes)} | {_yes(ok)} |")
    lines += [
        "",
        "- Server RSS (MB; the serve process, then each worker): before the 50 MB bodies "
        f"{_rss(h.rss_before)}; after the {h.repeats} with a Content-Length "
        f"{_rss(h.rss_after_length)}; after the {h.repeats} chunked {_rss(h.rss_after)}. "
        f"Largest growth of one process {h.growth:+.1f} MB (the run fails at "
        f"{RSS_GROWTH_LIMIT_MB:g} MB: a process that had kept one body would have grown by 50 "
        "MB). A body with a Content-Length over the limit is refused before any of it is read; "
        "a chunked one is read up to the 5 MiB limit, then refused",
        f"- SQL text stored as plain text: {h.sql_rows_intact} rows with the exact name, every "
        "table still there",
        f"- Afterwards `/health` and `/ready` 200, same worker processes: "
        f"{_yes(h.alive_after)}; no 5xx",
        "",
    ]
    return "\n".join(lines)


def save_raw(results: Results, path: Path) -> None:
    """Every figure as JSON under bench/data (not the clients' id sets)."""

    def plain(value: Any) -> Any:
        if is_dataclass(value) and not isinstance(value, type):
            return {f.name: plain(getattr(value, f.name)) for f in fields(value) if f.name != "ids"}
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if isinstance(value, Path | datetime):
            return str(value)
        return value

    path.write_text(json.dumps(plain(results), indent=2) + "\n")


# --- command line ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="clients' time under faults")
    parser.add_argument("--clients", type=int, default=8, help="client threads of scenario 1")
    parser.add_argument(
        "--outage-seconds",
        type=float,
        default=OUTAGE_SECONDS,
        help="how long the database stays stopped in scenario 1",
    )
    parser.add_argument("--workers", type=int, default=2, help="`hrdata serve --workers`")
    parser.add_argument(
        "--rows", type=int, default=2_000_000, help="lines of the data set of scenarios 2 and 3"
    )
    parser.add_argument("--hostile-repeats", type=int, default=10, help="each hostile request")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 10 s of clients, 200,000 lines, 2 of each hostile request; "
        "leaves the doc alone unless --doc is given",
    )
    harness.add_common_arguments(parser, database="hrdata_bench_reliability", doc=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.rows, args.hostile_repeats = 10.0, 200_000, 2
    if args.seconds <= 0 or args.clients < 1 or args.workers < 2 or args.rows < 1:
        parser.error("--seconds, --clients and --rows must be positive, --workers at least 2")
    if args.doc is None and not args.quick:
        args.doc = DOC
    if args.no_doc:
        args.doc = None
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raw = RESULTS.with_name("reliability-results-quick.json") if args.quick else RESULTS
    results = Results(datetime.now(UTC))
    results.background_busy = figures.cpu_busy()
    print(f"== machine {results.background_busy:.0%} busy before the run", flush=True)
    started = time.perf_counter()
    try:
        benchmark(args, [args.hrdata], results)
    except BenchmarkFailed as exc:
        save_raw(results, raw)
        print(f"FAILED: {exc}", file=sys.stderr)
        print(f"== what was measured is in {harness.relative(raw)}", file=sys.stderr)
        return 1
    results.seconds = time.perf_counter() - started
    save_raw(results, raw)
    print(f"== all scenarios passed in {results.seconds / 60:.1f} minutes", flush=True)
    print(f"== raw results in {harness.relative(raw)}")
    if args.doc is not None:
        url = make_conninfo(args.server_url, dbname=args.database)
        args.doc.write_text(document(results, args, url))
        print(f"== {harness.relative(args.doc)} written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
