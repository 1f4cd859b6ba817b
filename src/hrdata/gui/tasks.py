"""Work off the UI thread: each long operation runs in a worker thread, and what it reports
(progress, its result, its error as a message) comes back through a queue that the UI thread
drains with Tk's `after()`. Tk is not thread-safe, so workers never touch a widget."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from hrdata.gui.client import ClientError

log = logging.getLogger(__name__)

T = TypeVar("T")
P = TypeVar("P")
# Tk's `after(milliseconds, callback)`, or anything that schedules like it.
Schedule = Callable[[int, Callable[[], None]], object]


def readable(exc: BaseException) -> str:
    """The message a person sees for an error raised by a worker; never a traceback."""
    if isinstance(exc, ClientError):
        return exc.message
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return f"unexpected error ({type(exc).__name__}): {exc}"


@dataclass
class Task(Generic[T, P]):
    """One operation in its worker thread; `cancel` is set to ask it to stop."""

    name: str
    cancel: threading.Event = field(default_factory=threading.Event)
    done: bool = False


class Tasks:
    """Runs operations in worker threads and delivers their reports on the UI thread."""

    def __init__(self, schedule: Schedule, poll_ms: int = 40) -> None:
        self._schedule = schedule
        self._poll_ms = poll_ms
        self._reports: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._running: list[Task[Any, Any]] = []
        self._polling = False

    @property
    def busy(self) -> bool:
        """True while any operation has not yet delivered its end."""
        return bool(self._running)

    def start(
        self,
        name: str,
        work: Callable[[Task[T, P], Callable[[P], None]], T],
        *,
        on_done: Callable[[T], None],
        on_error: Callable[[str], None],
        on_progress: Callable[[P], None] | None = None,
    ) -> Task[T, P]:
        """Run `work(task, report)` in a thread; `report(p)` calls `on_progress(p)` on the UI
        thread; then `on_done(result)` or `on_error(message)` is called there."""
        task: Task[T, P] = Task(name)
        self._running.append(task)

        def report(value: P) -> None:
            if on_progress is not None:
                self._reports.put(lambda: on_progress(value))

        def finish(callback: Callable[[], None]) -> None:
            task.done = True
            self._running.remove(task)
            callback()

        def run() -> None:
            try:
                result = work(task, report)
            except Exception as exc:
                if not isinstance(exc, ClientError):
                    log.exception("%s failed", name)
                message = readable(exc)
                self._reports.put(lambda: finish(lambda: on_error(message)))
            else:
                self._reports.put(lambda: finish(lambda: on_done(result)))

        threading.Thread(target=run, name=f"gui-{name}", daemon=True).start()
        if not self._polling:
            self._polling = True
            self._schedule(self._poll_ms, self._drain)
        return task

    def _drain(self) -> None:
        """On the UI thread: deliver every report waiting, then look again shortly."""
        while True:
            try:
                deliver = self._reports.get_nowait()
            except queue.Empty:
                break
            try:
                deliver()
            except Exception:
                # A bug in a UI callback must not stop the delivery of every later report.
                log.exception("a UI callback failed")
        if self._running:
            self._schedule(self._poll_ms, self._drain)
        else:
            self._polling = False
