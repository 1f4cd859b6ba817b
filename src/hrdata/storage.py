"""Where hrdata keeps files it writes (backup sets, rejects logs): a local folder or an S3
prefix, behind one small protocol."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Protocol

from hrdata.errors import NotFound
from hrdata.folders import ensure_folder, existing_folder, storage_error
from hrdata.s3 import is_s3_uri, list_pages, s3_client, s3_error, split_s3_uri
from hrdata.settings import Settings


class Storage(Protocol):
    """Files named by paths under one location, e.g. `<backup id>/<file name>`."""

    location: str

    def put(self, local: Path, name: str) -> None: ...

    def where(self, name: str) -> str: ...

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]: ...

    def exists(self, name: str) -> bool: ...

    def sets(self) -> list[str]: ...

    def delete_set(self, backup_id: str) -> None: ...


class LocalStorage:
    """Sets as folders under `root`, which is created in `within` (by default its parent)."""

    def __init__(self, root: Path, within: Path | None = None) -> None:
        self.root = root
        self.within = within
        self.location = str(root)

    def put(self, local: Path, name: str) -> None:
        ensure_folder(self.root, within=self.within)
        target = self.root / name
        partial = target.with_name(target.name + ".partial")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local, partial)
            partial.replace(target)  # a reader never sees half a file under the final name
        except OSError as exc:
            raise storage_error(target, exc, "write this file") from exc

    def where(self, name: str) -> str:
        return str(self.root / name)

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        path = self.root / name
        if not path.is_file():
            raise NotFound(f"{path}: no such backup file")
        try:
            stream = path.open("rb")
        except OSError as exc:
            raise storage_error(path, exc, "read this file") from exc
        with stream:
            yield stream

    def exists(self, name: str) -> bool:
        return existing_folder(self.root, within=self.within) and (self.root / name).is_file()

    def sets(self) -> list[str]:
        if not existing_folder(self.root, within=self.within):
            return []  # nothing was ever written here
        try:
            return sorted(p.name for p in self.root.iterdir() if p.is_dir())
        except OSError as exc:
            raise storage_error(self.root, exc, "list this folder") from exc

    def delete_set(self, backup_id: str) -> None:
        folder = self.root / backup_id

        def refuse(
            _: object, path: str, info: tuple[type[BaseException], BaseException, Any]
        ) -> None:
            error = info[1]
            assert isinstance(error, OSError)  # rmtree reports only OS errors
            raise storage_error(Path(path), error, "delete this") from error

        if folder.exists():
            shutil.rmtree(folder, onerror=refuse)  # onexc from Python 3.12 on


class S3Storage:
    def __init__(self, uri: str, settings: Settings) -> None:
        self.bucket, prefix = split_s3_uri(uri)
        self.prefix = prefix.strip("/")
        self.location = (
            f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        )
        self.client: Any = s3_client(settings)

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def put(self, local: Path, name: str) -> None:
        try:
            # upload_file streams from disk and switches to multipart for large files.
            self.client.upload_file(str(local), self.bucket, self._key(name))
        except Exception as exc:
            raise s3_error(f"{self.location}/{name}", exc) from exc

    def where(self, name: str) -> str:
        return f"{self.location}/{name}"

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(name))["Body"]
        except Exception as exc:
            error = s3_error(f"{self.location}/{name}", exc)
            raise (NotFound(str(error)) if "no such object" in str(error) else error) from exc
        try:
            yield body
        finally:
            body.close()

    def exists(self, name: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(name))
            return True
        except Exception:
            return False

    def sets(self) -> list[str]:
        prefix = f"{self.prefix}/" if self.prefix else ""
        found: list[str] = []
        try:
            for page in list_pages(self.client, self.bucket, prefix, delimiter="/"):
                found += [
                    p["Prefix"][len(prefix) :].rstrip("/") for p in page.get("CommonPrefixes", [])
                ]
        except Exception as exc:
            raise s3_error(self.location, exc) from exc
        return sorted(found)

    def delete_set(self, backup_id: str) -> None:
        prefix = self._key(backup_id) + "/"
        try:
            for page in list_pages(self.client, self.bucket, prefix):
                keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if keys:
                    self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})
        except Exception as exc:
            raise s3_error(f"{self.location}/{backup_id}", exc) from exc


def storage_for(settings: Settings, uri: str | None = None) -> Storage:
    """The storage at `uri`, or at HRDATA_BACKUP_URI, or under <home>/backups."""
    location = uri or settings.backup_uri
    if location is None:
        # hrdata's own folder under its home: created with the home if need be.
        return LocalStorage(settings.home / "backups", within=settings.home.parent)
    return S3Storage(location, settings) if is_s3_uri(location) else LocalStorage(Path(location))


def log_storage(settings: Settings) -> Storage:
    """The storage of the logs: HRDATA_LOG_URI, or <home>/logs."""
    location = settings.logs_location
    if is_s3_uri(location):
        return S3Storage(location, settings)
    # The default location is hrdata's own, under its home; a configured one must have a parent.
    return LocalStorage(Path(location), settings.home.parent if settings.log_uri is None else None)
