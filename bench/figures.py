"""How the benchmarks take and write down their figures: CPU busy, percentiles, the lines every
report opens with, and the writer of one section of docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
QUIET_CPU = 0.15  # the machine counts as quiet below this share of CPU busy over a second.


# --- CPU ---------------------------------------------------------------------------------------


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, summed over cores, from /proc."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0, 0.0
    ticks = [int(v) for v in first[:8]]  # user nice system idle iowait irq softirq steal
    idle = ticks[3] + ticks[4]
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


def busy_share(before: tuple[float, float], after: tuple[float, float]) -> float:
    """Share of all cores busy between two machine_cpu() samples."""
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total else 0.0


def cpu_busy(seconds: float = 2.0) -> float:
    """Share of all cores busy over the next `seconds`: other work skews the figures."""
    before = machine_cpu()
    time.sleep(seconds)
    return busy_share(before, machine_cpu())


def wait_for_quiet(limit: float) -> float | None:
    """Wait up to `limit` seconds for the machine to be quiet (under QUIET_CPU over a second);
    None once it is, else how busy it still was."""
    deadline = time.monotonic() + limit
    while (busy := cpu_busy(1.0)) >= QUIET_CPU:
        if time.monotonic() >= deadline:
            return busy
    return None


@contextmanager
def machine_busy(into: dict[str, float], key: str) -> Iterator[None]:
    """The share of all cores busy while the block runs, stored as `into[key]`."""
    before = machine_cpu()
    yield
    into[key] = busy_share(before, machine_cpu())


def process_tree(pid: int) -> list[int]:
    """`pid` and every live descendant of it, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc (0 where there is no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- statistics --------------------------------------------------------------------------------


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p99(values: list[float]) -> float:
    """The 99th percentile (inclusive method); the largest value when there are fewer than 2."""
    if len(values) < 2:
        return max(values)
    return statistics.quantiles(values, n=100, method="inclusive")[98]


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


# --- the report --------------------------------------------------------------------------------


def heading(start: str, title: str, script: str) -> list[str]:
    """The first lines of a section: its start marker, title, author, date, commit, machine."""
    now = datetime.now(UTC)
    return [start, f"## {title}", "", written_by(script), "", dated(now), f"- Machine: {machine()}"]


def written_by(script: str) -> str:
    return f"Written by {script}; see bench/README.md. Do not edit by hand."


def dated(when: datetime) -> str:
    """The date line, with the commit measured."""
    return f"- Date: {when:%Y-%m-%d %H:%M} UTC; commit {commit()}"


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


def setting(url: str, name: str) -> str:
    """One setting of the server at `url`."""
    with psycopg.connect(url) as conn:
        return _setting(conn, name)


def _setting(conn: psycopg.Connection, name: str) -> str:
    row = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
    return str(row[0]) if row else "?"


def commit() -> str:
    """The git commit measured, flagged when src/ has uncommitted changes."""
    short = _command_output(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    dirty = _command_output(["git", "status", "--porcelain", "--", "src"])
    return f"{short} (with uncommitted changes in src/)" if dirty else short


def _command_output(command: list[str]) -> str:
    try:
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


# --- docs/benchmarks.md ------------------------------------------------------------------------


def markers(name: str) -> tuple[str, str]:
    """The start and end markers of one benchmark's section."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def write_section(doc: Path, section: str, markers: tuple[str, str]) -> None:
    """Replace one section of `doc` (between `markers`), keeping every other one; append it when
    the markers are absent."""
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
