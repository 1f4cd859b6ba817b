"""Local folders and files hrdata writes: its home, backup and log locations, reports.

A folder hrdata is given is created only under a parent that exists (a typo in a path never
grows a tree of folders), and every OSError becomes a StorageError naming the path and, in
the user's terms, what is wrong with it.
"""

from __future__ import annotations

from pathlib import Path

from hrdata.errors import StorageError


def storage_error(path: Path, exc: OSError, action: str) -> StorageError:
    """A StorageError naming `path` and why `action` (e.g. "write this file") failed on it."""
    blocked = _blocked(path, path.parent)
    if blocked is not None:
        return blocked
    return StorageError(str(path), f"cannot {action}: {exc.strerror or exc}")


def existing_folder(path: Path, *, within: Path | None = None) -> bool:
    """Whether folder `path` exists; raises StorageError if it could not be one.

    It could not when a file is in its place or above it, or when `within` (by default its
    parent, the folder it would be created in) does not exist.
    """
    if path.is_dir():
        return True
    if path.exists():
        raise StorageError(str(path), "is a file, not a folder")
    blocked = _blocked(path, path.parent if within is None else within)
    if blocked is not None:
        raise blocked
    return False


def ensure_folder(path: Path, *, within: Path | None = None) -> None:
    """Create folder `path` (and the folders between `within` and it); raises StorageError.

    `within` (by default the parent of `path`) must exist: it is never created.
    """
    if existing_folder(path, within=within):
        return
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error(path, exc, "create this folder") from exc


def write_file(path: Path, content: bytes) -> None:
    """Write `content` to the file `path`, whose folder must exist; raises StorageError."""
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise storage_error(path, exc, "write this file") from exc


def read_text(path: Path) -> str:
    """The text of the file `path`; raises StorageError."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, UnicodeDecodeError):
            raise StorageError(str(path), "is not UTF-8 text") from exc
        raise storage_error(path, exc, "read this file") from exc


def _blocked(path: Path, within: Path) -> StorageError | None:
    """Why nothing can be made at `path` in `within`: a file above it, or `within` missing."""
    for ancestor in path.parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                return StorageError(str(path), f"{ancestor} is a file, not a folder")
            break
    if not within.is_dir():
        return StorageError(str(path), f"folder {within} does not exist")
    return None
