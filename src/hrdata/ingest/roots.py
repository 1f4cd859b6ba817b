"""The source roots: where sources named through the API may lie (HRDATA_SOURCE_ROOTS).

A local source is judged by its real path (os.path.realpath: symlinks, `.`, `..` and doubled
slashes resolved) before anything looks at the file, so a refusal says nothing about whether
the file exists. The CLI, run by the machine's own user, passes no roots and reads any path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hrdata.errors import SourceError, SourceOutsideRoots
from hrdata.s3 import is_s3_uri, split_s3_uri
from hrdata.settings import Settings


@dataclass(frozen=True)
class SourceRoots:
    """Real paths of the local roots, (bucket, prefix) pairs of the S3 ones ("" is any)."""

    named: list[str]
    local: tuple[str, ...]
    s3: tuple[tuple[str, str], ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> SourceRoots:
        """The roots of `settings`, a relative folder taken from the working directory now."""
        local, s3 = [], []
        for root in settings.source_roots:
            if is_s3_uri(root):
                bucket, _, prefix = root.removeprefix("s3://").partition("/")
                s3.append((bucket, prefix.strip("/")))
            else:
                local.append(os.path.realpath(root))
        return cls(list(settings.source_roots), tuple(local), tuple(s3))

    def check(self, spec: str) -> None:
        """Raise SourceOutsideRoots unless the file, folder or URI `spec` lies under a root."""
        if is_s3_uri(spec):
            self._check_s3(spec)
        else:
            self.local_path(spec)

    def local_path(self, spec: str) -> str:
        """The real path of `spec` when it lies under a local root; raises SourceOutsideRoots."""
        try:
            real = os.path.realpath(spec)
        except ValueError as exc:  # a NUL, a lone surrogate: no file system holds such a name
            raise SourceError(spec, "is not a name a file can have") from exc
        if not any(os.path.commonpath([real, root]) == root for root in self.local):
            raise SourceOutsideRoots(spec, self.named)
        return real

    def _check_s3(self, uri: str) -> None:
        bucket, key = split_s3_uri(uri)
        segments = key.split("/")
        # S3 keys are plain strings, but some stores and proxies resolve these as a path does.
        if "." in segments or ".." in segments:
            raise SourceOutsideRoots(uri, self.named, " ('.' and '..' are refused in S3 keys)")
        if not any(
            root_bucket in ("", bucket)
            and (not prefix or key == prefix or key.startswith(f"{prefix}/"))
            for root_bucket, prefix in self.s3
        ):
            raise SourceOutsideRoots(uri, self.named)
