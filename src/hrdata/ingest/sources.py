"""Where CSV files come from: local files and folders or s3:// URIs, plain or gzip."""

from __future__ import annotations

import gzip
import io
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, BinaryIO

from hrdata.dictionary import TABLES, Table, dependency_rank
from hrdata.dictionary import table as table_named
from hrdata.errors import SourceError, TableContradicted, TableForOneFile, TableNotNamed
from hrdata.ingest.roots import SourceRoots
from hrdata.s3 import is_s3_uri, list_pages, s3_client, s3_error, split_s3_uri
from hrdata.settings import Settings


@dataclass(frozen=True)
class Source:
    """One file to load into one table."""

    name: str
    table: Table
    size: int
    open_raw: Callable[[], IO[bytes]]
    identity: str = ""  # the same for every name of one file: device and inode, or S3 URI
    also_named: tuple[str, ...] = ()  # the other names it was given, each read no more

    @property
    def compressed(self) -> bool:
        return self.name.lower().endswith(".gz")


class CountingReader(io.RawIOBase):
    """A raw byte stream that counts what it has read, to drive a progress bar."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if hasattr(self.inner, "readinto"):
            size: int = self.inner.readinto(buffer)
        else:
            data = self.inner.read(len(buffer))
            size = len(data)
            buffer[:size] = data
        self.count += size
        return size

    def close(self) -> None:
        self.inner.close()
        super().close()


@contextmanager
def open_source(source: Source) -> Iterator[tuple[BinaryIO, CountingReader]]:
    """The decompressed byte stream of `source` and the counter of raw bytes read."""
    try:
        raw = source.open_raw()
    except OSError as exc:
        raise SourceError(source.name, f"cannot be read: {exc.strerror or exc}") from exc
    counter = CountingReader(raw)
    buffered = io.BufferedReader(counter, buffer_size=1 << 16)
    stream: BinaryIO = gzip.GzipFile(fileobj=buffered) if source.compressed else buffered  # type: ignore[assignment]
    try:
        yield stream, counter
    finally:
        stream.close()
        counter.close()


def table_for(filename: str) -> Table | None:
    """The table a file is for, from its name: departments.csv, jobs.csv.gz..."""
    stem = filename.lower().removesuffix(".gz").removesuffix(".csv")
    return next((t for t in TABLES if t.name == stem), None)


def resolve(
    specs: list[str],
    settings: Settings,
    table_name: str | None = None,
    roots: SourceRoots | None = None,
    *,
    force: bool = False,
) -> list[Source]:
    """Every file named by `specs`, matched to its table, in dependency order.

    Raises SourceError for a missing path, an empty or unmatched file, an S3 problem, or (without
    `force`) a `table_name` the file's own name contradicts, and (with `roots`, for sources
    named through the API) SourceOutsideRoots, before anything is loaded.
    """
    forced = table_named(table_name) if table_name else None
    found: list[Source] = []
    for spec in specs:
        if roots is not None:
            roots.check(spec)  # before the source is looked at: a refusal tells nothing of it
        found += (
            _resolve_s3(spec, settings, forced)
            if is_s3_uri(spec)
            else _resolve_local(spec, forced, roots)
        )
    if forced is not None and not force:
        for source in found:
            _check_not_contradicted(source, forced)
    return sorted(_once_each(found), key=lambda source: dependency_rank(source.table))


def _check_not_contradicted(source: Source, forced: Table) -> None:
    """departments.csv with --table jobs is most likely a slip: refused unless forced."""
    named = table_for(Path(source.name).name)
    if named is not None and named.name != forced.name:
        raise TableContradicted(source.name, named.name, forced.name)


def _once_each(sources: list[Source]) -> list[Source]:
    """Each file once, under its first name: `f.csv f.csv`, `./f.csv`, a folder and a file in
    it, a link to it all name one file, which a run reads once (it would only skip it again)."""
    first: dict[str, Source] = {}
    for source in sources:
        kept = first.setdefault(source.identity, source)
        if kept is not source:
            first[source.identity] = replace(kept, also_named=(*kept.also_named, source.name))
    return list(first.values())


def _match(name: str, display: str, forced: Table | None) -> Table:
    matched = forced or table_for(name)
    if matched is None:
        expected = ", ".join(f"{t.name}.csv" for t in TABLES)
        raise TableNotNamed(display, expected)
    return matched


def _local_source(
    path: Path, display: str, forced: Table | None, roots: SourceRoots | None
) -> Source:
    # The path opened is the real path that was checked, so a symlink in a folder is judged
    # by where it leads.
    real = roots.local_path(str(path)) if roots is not None else str(path)
    status = os.stat(real)
    if not stat.S_ISREG(status.st_mode):
        # Reading a FIFO or a device would block or never end, and it is no export.
        kind = "a folder" if stat.S_ISDIR(status.st_mode) else "a device, FIFO or socket"
        raise SourceError(display, f"not a regular file ({kind})")
    table = _match(path.name, display, forced)
    if status.st_size == 0:
        raise SourceError(str(path), "file is empty")
    identity = f"{status.st_dev}:{status.st_ino}"
    return Source(str(path), table, status.st_size, lambda: open(real, "rb"), identity)


def _resolve_local(spec: str, forced: Table | None, roots: SourceRoots | None) -> list[Source]:
    try:
        return _local_sources(Path(spec), spec, forced, roots)
    except OSError as exc:  # a name too long for the file system, a folder we may not read...
        raise SourceError(spec, f"cannot be read: {exc.strerror or exc}") from exc


def _local_sources(
    path: Path, spec: str, forced: Table | None, roots: SourceRoots | None
) -> list[Source]:
    if not path.exists():
        raise SourceError(spec, "no such file or directory")
    if not path.is_dir():
        return [_local_source(path, spec, forced, roots)]
    if forced is not None:
        raise TableForOneFile(spec, "file", "folder")
    # Every entry named after a table, whatever it is: a FIFO or a folder there is refused.
    files = sorted(p for p in path.iterdir() if table_for(p.name))
    if roots is not None:
        for candidate in files:  # judged before stat() looks where a symlink leads
            roots.local_path(str(candidate))
    if not files:
        expected = ", ".join(f"{t.name}.csv" for t in TABLES)
        raise SourceError(spec, f"no file named after a table in this folder (expected {expected})")
    return [_local_source(p, str(p), None, roots) for p in files]


def _resolve_s3(uri: str, settings: Settings, forced: Table | None) -> list[Source]:
    bucket, key = split_s3_uri(uri)
    client = s3_client(settings)
    try:
        objects = _list_objects(client, bucket, key)
    except Exception as exc:
        raise s3_error(uri, exc) from exc
    if not objects:
        raise SourceError(uri, "no such object or prefix")
    exact = [(k, size) for k, size in objects if k == key]
    if exact:
        objects = exact
    elif forced is not None:
        raise TableForOneFile(uri, "object", "prefix")
    else:
        # Like a local folder: the objects directly under the prefix, none from sub-prefixes.
        folder = key if not key or key.endswith("/") else f"{key}/"
        objects = [
            (k, size)
            for k, size in objects
            if "/" not in k[len(folder) :] and table_for(k[len(folder) :])
        ]
        if not objects:
            raise SourceError(uri, "no object under this prefix is named after a table")
    sources = []
    for object_key, size in objects:
        name = f"s3://{bucket}/{object_key}"
        if size == 0:
            raise SourceError(name, "object is empty")
        table = _match(object_key.rsplit("/", 1)[-1], name, forced)
        sources.append(
            Source(name, table, size, _s3_opener(client, bucket, object_key, name), name)
        )
    return sources


def _list_objects(client: Any, bucket: str, prefix: str) -> list[tuple[str, int]]:
    found = []
    for page in list_pages(client, bucket, prefix):
        found += [(item["Key"], item["Size"]) for item in page.get("Contents", [])]
    # A prefix without a trailing slash would also match "departments.csv.bak/": keep it exact.
    if prefix and not prefix.endswith("/"):
        found = [(k, s) for k, s in found if k == prefix or k.startswith(prefix + "/")]
    return sorted(found)


def _s3_opener(client: Any, bucket: str, key: str, name: str) -> Callable[[], IO[bytes]]:
    def open_object() -> IO[bytes]:
        try:
            body: IO[bytes] = client.get_object(Bucket=bucket, Key=key)["Body"]
        except Exception as exc:
            raise s3_error(name, exc) from exc
        return body

    return open_object
