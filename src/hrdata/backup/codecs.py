"""The AVRO block codecs a backup may use, declared once (the CLI, the API and the writer)."""

from __future__ import annotations

from typing import Literal, get_args

Codec = Literal["null", "deflate", "zstandard", "snappy"]
CODECS: tuple[str, ...] = get_args(Codec)
DEFAULT_CODEC: Codec = "deflate"
