"""The S3 client built from settings, s3:// URIs, and S3 errors turned into clear messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from hrdata.errors import SourceError
from hrdata.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_EXPLAINED = {
    "NoSuchBucket": "the bucket does not exist",
    "NoSuchKey": "no such object",
    "AccessDenied": "access denied (check the credentials and the bucket policy)",
    "InvalidAccessKeyId": "access denied: the access key is not known to the store",
    "SignatureDoesNotMatch": "access denied: the secret key does not match",
    "403": "access denied",
    "404": "not found",
}


def is_s3_uri(text: str) -> bool:
    return text.startswith("s3://")


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key or prefix) of an s3:// URI; raises SourceError when there is no bucket."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not bucket:
        raise SourceError(uri, "an S3 URI needs a bucket: s3://bucket/prefix/")
    return bucket, key


def s3_client(settings: Settings) -> S3Client:
    """A boto3 S3 client; credentials come from the usual AWS chain, never from hrdata."""
    import boto3
    from botocore.config import Config

    client: S3Client = boto3.client(
        "s3",
        region_name=settings.s3_region,
        endpoint_url=settings.s3_endpoint_url,
        # Bounded retries and timeouts: a dead endpoint fails in seconds, not minutes.
        config=Config(
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=settings.connect_timeout_seconds,
            read_timeout=60,
        ),
    )
    return client


def list_pages(
    client: Any, bucket: str, prefix: str, *, delimiter: str | None = None
) -> Iterator[dict[str, Any]]:
    """The pages of a listing of `prefix` (with `delimiter`: its sub-prefixes, one level)."""
    extra = {"Delimiter": delimiter} if delimiter else {}
    yield from client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, **extra
    )


def s3_error(uri: str, exc: Exception) -> SourceError:
    """A SourceError naming `uri` and what went wrong, for any botocore exception."""
    from botocore.exceptions import ClientError, NoCredentialsError

    if isinstance(exc, ClientError):
        error: dict[str, Any] = dict(exc.response.get("Error", {}))
        code = str(error.get("Code", ""))
        return SourceError(
            uri, _EXPLAINED.get(code, f"S3 error {code}: {error.get('Message', '')}")
        )
    if isinstance(exc, NoCredentialsError):
        return SourceError(uri, "no AWS credentials found (environment, profile or role)")
    return SourceError(uri, f"S3 cannot be reached: {exc}")
