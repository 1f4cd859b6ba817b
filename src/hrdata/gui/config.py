"""The connection the desktop client remembers, only when asked: URL and API key in the user's
config directory, in a file only its owner can read (0600 from the moment it exists)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from hrdata.gui.client import ClientError

FILE_NAME = "gui.json"


@dataclass(frozen=True)
class Remembered:
    url: str
    key: str


def default_config_path() -> Path:
    """`gui.json` in the user's config directory (XDG_CONFIG_HOME/hrdata on Linux)."""
    import platformdirs

    return Path(platformdirs.user_config_dir("hrdata")) / FILE_NAME


def load(path: Path) -> Remembered | None:
    """The remembered connection, or None when there is none (or it cannot be read)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Remembered(url=str(data["url"]), key=str(data["key"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remember(path: Path, connection: Remembered) -> None:
    """Write the connection to `path`, mode 0600; raises ClientError when it cannot."""
    text = json.dumps({"url": connection.url, "key": connection.key})
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Created 0600 by open(2) itself (umask can only remove bits), so the key is never
        # readable by others, even for a moment; replacing the file keeps that mode.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ClientError(f"cannot remember the connection in {path}: {exc.strerror}") from None


def forget(path: Path) -> None:
    """Delete the remembered connection, if any; raises ClientError when it cannot."""
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise ClientError(f"cannot delete {path}: {exc.strerror}") from None
