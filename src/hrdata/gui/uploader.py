"""Uploading a CSV file to a table through the API: in batches, resumable, cancellable.

The file is read twice, streaming, never whole: once to hash it and count its batches, once to
send them. Lines are read by hrdata's own CSV reader, so they are numbered exactly as the API
and a migration number them (blank lines count, a header on the first line is not data).
Each batch is sent as a CSV body that starts with the table's header line, then its rows; the
API answers each reject with its index in the batch, which maps back to the file line.

A journal (JSON Lines, one line per acknowledged batch, appended and synced) lets an upload
that failed or was cancelled resume: acknowledged batches are not sent again, and the batch
that was in flight is sent again with the same Idempotency-Key, so the server answers it from
its idempotency store without inserting twice.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from hrdata.csvfile import LineProblem, printable, read_lines, split_fields
from hrdata.dictionary import TABLES
from hrdata.gui.client import ApiClient, ClientError
from hrdata.wire import MAX_BATCH_ROWS, BatchResponse, Reason

# Under the API's default body limit (HRDATA_API_MAX_BODY_BYTES, 5 MiB), with room to spare.
MAX_BATCH_BYTES = 4 << 20
# The API's default longest line (HRDATA_MAX_LINE_BYTES); longer ones are rejected here.
MAX_LINE_CHARS = 1 << 20
_JOURNAL_VERSION = 1


class UploadError(ClientError):
    """An upload that cannot start or go on for a local reason (file, journal, table)."""


@dataclass(frozen=True)
class Reject:
    """A rejected row: its line in the file, its values as read, and every reason."""

    line: int
    values: tuple[str, ...]
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Batch:
    """Up to 1000 data rows of the file, as the CSV body that carries them."""

    number: int  # from 1
    lines: tuple[int, ...]  # the file line of each row, in the order of the body
    texts: tuple[str, ...]  # each row's line as read, for showing rejects
    body: bytes  # the table's header line, then the rows
    local_rejects: tuple[Reject, ...] = ()  # lines too long to send

    @property
    def rows(self) -> int:
        return len(self.lines)


@dataclass(frozen=True)
class Plan:
    """What the first pass over the file found: its hash, its data rows and batches."""

    sha256: str
    rows: int
    batches: int


@dataclass(frozen=True)
class UploadProgress:
    """Where an upload stands, after each batch."""

    batches_done: int
    batches_total: int
    rows_done: int
    rows_total: int
    inserted: int
    skipped: int
    rejected: int
    rejects: tuple[Reject, ...] = ()  # rejects not reported before (from earlier runs, at first)

    @property
    def fraction(self) -> float:
        return self.rows_done / self.rows_total if self.rows_total else 1.0


@dataclass
class UploadResult:
    """How an upload ended: `completed` or `cancelled`, the counts and every reject."""

    status: str
    batches_total: int
    batches_sent: int  # sent in this run (acknowledged earlier ones are not)
    batches_resumed: int  # acknowledged by an earlier run, not sent again
    rows_total: int
    inserted: int
    skipped: int
    rejects: list[Reject] = field(default_factory=list)


@dataclass(frozen=True)
class Pending:
    """An unfinished earlier upload of this file to this table on this server."""

    batches_done: int
    batches_total: int
    rows_done: int
    rows_total: int


def default_journal_dir() -> Path:
    """Where journals live: the user's state directory (XDG_STATE_HOME on Linux)."""
    import platformdirs

    return Path(platformdirs.user_state_dir("hrdata")) / "uploads"


def header_line(table: str) -> str:
    """The table's column names as a CSV header line."""
    for candidate in TABLES:
        if candidate.name == table:
            return ",".join(candidate.column_names)
    known = ", ".join(t.name for t in TABLES)
    raise UploadError(f"unknown table {table!r} (known tables: {known})")


def batches(
    stream: BinaryIO,
    table: str,
    *,
    batch_rows: int = MAX_BATCH_ROWS,
    max_body_bytes: int = MAX_BATCH_BYTES,
    max_line_chars: int = MAX_LINE_CHARS,
) -> Iterator[Batch]:
    """The batches of a CSV byte stream: at most `batch_rows` rows and about `max_body_bytes`.

    Lines are split as the API splits them; a line longer than `max_line_chars` is not sent but
    comes back as one of the batch's `local_rejects`.
    """
    if not 1 <= batch_rows <= MAX_BATCH_ROWS:
        raise UploadError(f"a batch holds 1 to {MAX_BATCH_ROWS} rows, not {batch_rows}")
    header = header_line(table)
    columns = tuple(header.split(","))
    head = (header + "\n").encode()
    number = 0
    lines: list[int] = []
    texts: list[str] = []
    parts: list[bytes] = [head]
    size = len(head)
    local: list[Reject] = []

    def batch() -> Batch:
        return Batch(number, tuple(lines), tuple(texts), b"".join(parts), tuple(local))

    for line, text in read_lines(stream, header=columns, max_line_chars=max_line_chars):
        if isinstance(text, LineProblem):
            local.append(Reject(line, (printable(text.text),), (text.reason,)))
            continue
        encoded = text.encode("utf-8", "surrogateescape") + b"\n"
        if lines and (len(lines) == batch_rows or size + len(encoded) > max_body_bytes):
            number += 1
            yield batch()
            lines, texts, parts, size, local = [], [], [head], len(head), []
        lines.append(line)
        texts.append(text)
        parts.append(encoded)
        size += len(encoded)
    if lines or local:
        number += 1
        yield batch()


class _Hashing(io.RawIOBase):
    """A readable stream that hashes every byte read through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.digest.update(data)
        return len(data)


class Upload:
    """One CSV file to one table through `client`: `run()` sends it, `run(resume=True)` goes on
    from where an earlier run stopped. Raises ApiError or UploadError.
    """

    def __init__(
        self,
        client: ApiClient,
        path: Path,
        table: str,
        *,
        journal_dir: Path | None = None,
        batch_rows: int = MAX_BATCH_ROWS,
    ) -> None:
        header_line(table)  # an unknown table fails now
        self.client = client
        self.path = Path(path)
        self.table = table
        self.batch_rows = batch_rows
        self.journal_dir = journal_dir if journal_dir is not None else default_journal_dir()
        identity = f"{client.url}\0{table}\0{self.path.resolve()}".encode()
        self.journal = self.journal_dir / f"{hashlib.sha256(identity).hexdigest()[:32]}.jsonl"

    # -- the journal -------------------------------------------------------------------------

    def pending(self) -> Pending | None:
        """The unfinished earlier upload of this file, if the journal has one."""
        loaded = self._load_journal()
        if loaded is None:
            return None
        head, acknowledged = loaded
        return Pending(
            batches_done=len(acknowledged),
            batches_total=head["batches"],
            rows_done=sum(entry["rows"] for entry in acknowledged.values()),
            rows_total=head["rows"],
        )

    def discard(self) -> None:
        """Forget the unfinished earlier upload (the next run starts from the first batch)."""
        self.journal.unlink(missing_ok=True)

    def _load_journal(self) -> tuple[dict[str, Any], dict[int, dict[str, Any]]] | None:
        try:
            text = self.journal.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise UploadError(f"cannot read the upload journal {self.journal}: {exc}") from None
        entries = []
        for line in text.splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                break  # a line torn by a crash: that batch was not recorded, so it is re-sent
        if not entries or entries[0].get("version") != _JOURNAL_VERSION:
            return None
        acknowledged = {int(e["batch"]): e for e in entries[1:] if "batch" in e}
        return entries[0], acknowledged

    def _write_journal(
        self, head: dict[str, Any], acknowledged: dict[int, dict[str, Any]]
    ) -> IO[str]:
        """Write the journal afresh (head, then acknowledged batches); open it for appending.

        Rewriting drops a line torn by a crash, so later batches are never recorded after it.
        The file is 0600: it holds the values of rejected rows.
        """
        temporary = self.journal.with_suffix(".tmp")
        try:
            self.journal_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                for entry in (head, *acknowledged.values()):
                    _append(out, entry)
            os.replace(temporary, self.journal)
            return self.journal.open("a", encoding="utf-8")
        except OSError as exc:
            raise UploadError(f"cannot write the upload journal {self.journal}: {exc}") from None

    # -- the upload --------------------------------------------------------------------------

    def plan(self, cancel: threading.Event | None = None) -> Plan | None:
        """Hash the file and count its rows and batches; None when cancelled."""
        rows = count = 0
        with self._open() as raw:
            hashing = _Hashing(raw)
            for batch in batches(
                io.BufferedReader(hashing), self.table, batch_rows=self.batch_rows
            ):
                if cancel is not None and cancel.is_set():
                    return None
                rows += batch.rows + len(batch.local_rejects)
                count += 1
        return Plan(hashing.digest.hexdigest(), rows, count)

    def run(
        self,
        *,
        resume: bool = False,
        on_progress: Callable[[UploadProgress], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> UploadResult:
        """Send every batch not yet acknowledged; stop between batches when `cancel` is set."""
        cancel = cancel or threading.Event()
        plan = self.plan(cancel)
        if plan is None:
            return UploadResult("cancelled", 0, 0, 0, 0, 0, 0)
        if plan.rows == 0:
            raise UploadError(f"{self.path.name} holds no rows")
        loaded = self._load_journal() if resume else None
        if loaded is not None and (
            loaded[0]["sha256"] != plan.sha256 or loaded[0]["batch_rows"] != self.batch_rows
        ):
            raise UploadError(f"{self.path.name} changed since the upload stopped: start it again")
        if loaded is None:
            head = {
                "version": _JOURNAL_VERSION,
                "url": self.client.url,
                "table": self.table,
                "path": str(self.path.resolve()),
                "sha256": plan.sha256,
                "batch_rows": self.batch_rows,
                # A fresh upload of the same file gets fresh keys: a retry is answered from the
                # idempotency store, a later upload is a new request (its rows skipped if present).
                "nonce": secrets.token_hex(8),
                "batches": plan.batches,
                "rows": plan.rows,
            }
            acknowledged: dict[int, dict[str, Any]] = {}
        else:
            head, acknowledged = loaded
        result = UploadResult("completed", plan.batches, 0, len(acknowledged), plan.rows, 0, 0)
        rows_done = 0
        for entry in acknowledged.values():
            rows_done += entry["rows"]
            result.inserted += entry["inserted"]
            result.skipped += entry["skipped"]
            result.rejects.extend(_reject_from_json(r) for r in entry["rejects"])

        def report(batches_done: int, new: list[Reject]) -> None:
            if on_progress is not None:
                on_progress(
                    UploadProgress(
                        batches_done,
                        plan.batches,
                        rows_done,
                        plan.rows,
                        result.inserted,
                        result.skipped,
                        len(result.rejects),
                        tuple(new),
                    )
                )

        report(len(acknowledged), result.rejects)
        journal = self._write_journal(head, acknowledged)
        with journal, self._open() as raw:
            hashing = _Hashing(raw)
            stream = io.BufferedReader(hashing)
            for batch in batches(stream, self.table, batch_rows=self.batch_rows):
                if batch.number in acknowledged:
                    continue
                if cancel.is_set():
                    result.status = "cancelled"
                    break
                answer = self._send(batch, head)
                rejects = sorted(
                    [*batch.local_rejects, *_rejects(batch, answer)], key=lambda r: r.line
                )
                entry = {
                    "batch": batch.number,
                    "rows": batch.rows + len(batch.local_rejects),
                    "inserted": answer.inserted if answer else 0,
                    "skipped": answer.skipped if answer else 0,
                    "rejects": [_reject_to_json(r) for r in rejects],
                }
                _append(journal, entry)
                acknowledged[batch.number] = entry
                result.batches_sent += 1
                rows_done += entry["rows"]
                result.inserted += entry["inserted"]
                result.skipped += entry["skipped"]
                result.rejects.extend(rejects)
                report(len(acknowledged), rejects)
        if result.status == "completed":
            if hashing.digest.hexdigest() != plan.sha256:
                raise UploadError(f"{self.path.name} changed during the upload")
            self.discard()
        result.rejects.sort(key=lambda r: r.line)
        return result

    def _send(self, batch: Batch, head: dict[str, Any]) -> BatchResponse | None:
        if not batch.rows:
            return None
        return self.client.post_rows(self.table, batch.body, self._key(head, batch.number))

    def _key(self, head: dict[str, Any], number: int) -> str:
        """The batch's Idempotency-Key: from the file's hash, the table, the batch size, the
        upload's nonce and the batch number, so a re-sent batch has the same key."""
        parts = (head["sha256"], self.table, str(head["batch_rows"]), head["nonce"], str(number))
        return f"hrdata-gui-{hashlib.sha256(chr(0).join(parts).encode()).hexdigest()[:40]}"

    def _open(self) -> IO[bytes]:
        try:
            return self.path.open("rb")
        except OSError as exc:
            raise UploadError(f"cannot read {self.path}: {exc.strerror}") from None


def _rejects(batch: Batch, answer: BatchResponse | None) -> list[Reject]:
    found = []
    for rejected in answer.rejected if answer else ():
        index = rejected.index
        if not 0 <= index < batch.rows:
            # The body's first line is the header, so body line n is row n - 2.
            index = (rejected.line or 0) - 2
        if 0 <= index < batch.rows:
            found.append(
                Reject(batch.lines[index], _values(batch.texts[index]), tuple(rejected.reasons))
            )
    return found


def _values(text: str) -> tuple[str, ...]:
    """The row's values as read (undecodable bytes shown as U+FFFD), or its line whole."""
    fields = split_fields(text)
    return tuple(map(printable, fields)) if isinstance(fields, list) else (printable(text),)


def _append(out: IO[str], entry: dict[str, Any]) -> None:
    out.write(json.dumps(entry) + "\n")
    out.flush()
    os.fsync(out.fileno())


def _reject_to_json(reject: Reject) -> list[Any]:
    return [
        reject.line,
        list(reject.values),
        [[r.code, r.message, r.column] for r in reject.reasons],
    ]


def _reject_from_json(entry: list[Any]) -> Reject:
    line, values, reasons = entry
    return Reject(line, tuple(values), tuple(Reason(*r) for r in reasons))
