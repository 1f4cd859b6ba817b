"""Reading what a program draws on a pseudo-terminal, for tests of what people see."""

from __future__ import annotations

import os
import select
import time


def drawn(primary: int, *, answer: bytes = b"", when: bytes | None = None) -> str:
    """Everything written to the terminal whose primary side is `primary`, until the program
    closes it (60 s at most); `answer` is typed once, as soon as `when` has been drawn."""
    chunks = b""
    answered = when is None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not select.select([primary], [], [], 0.5)[0]:
            continue
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO once the program has closed the terminal
            break
        if not chunk:
            break
        chunks += chunk
        if not answered and when is not None and when in chunks:
            os.write(primary, answer)
            answered = True
    return chunks.decode("utf-8", "replace")
