"""Credentials out of text bound for logs: API keys, bearer tokens, URL passwords, S3 signatures."""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # hrd_<key id>_<secret>: the key id stays, to tell keys apart in a log.
    (re.compile(r"\b(hrd_[0-9a-f]{12}_)[A-Za-z0-9_-]+"), r"\1[redacted]"),
    (re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+"), r"\1[redacted]"),
    # scheme://user:password@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@\"']+:)[^\s@/\"']+@"), r"\1[redacted]@"),
    # A presigned URL's query: signature, credential, session token.
    (
        re.compile(
            r"(?i)\b((?:X-Amz-(?:Signature|Credential|Security-Token)|Signature|AWSAccessKeyId"
            r"|x-amz-security-token)=)[^&\s\"']+"
        ),
        r"\1[redacted]",
    ),
    (re.compile(r"(?i)\b(aws_secret_access_key\s*[=:]\s*)\S+"), r"\1[redacted]"),
)


def redact(text: str) -> str:
    """`text` with every credential-shaped part replaced by `[redacted]`."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
