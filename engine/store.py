"""Where project files are kept: the Store interface and its S3-compatible backend.

``STORYBEAT_STORAGE`` unset: no store, the project folders on local disk are
the storage (as always; nothing here runs). ``STORYBEAT_STORAGE=s3://bucket/prefix``:
the bucket is the storage and ``data/projects/`` a local working copy that
:mod:`engine.sync` keeps in step with it.

Keys are relative to the projects root, e.g. ``3f2a9c/project.json``. Every
write is one PUT (an object is never seen half-written) and can be made
conditional: ``if_match`` an ETag read before, or ``if_absent`` (create
only); a failed condition raises :class:`Conflict`.

The client is boto3: the reference S3 SDK, kept by AWS, which speaks to any
S3-compatible endpoint (MinIO, Cloudflare R2, GCS's interoperability API)
and sends ``If-Match`` / ``If-None-Match`` on PutObject.
"""
from __future__ import annotations

import functools
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from engine.config import get_settings
from engine.errors import InputError


class Conflict(Exception):
    """A conditional write failed: the object is not the one the writer read (or exists already)."""


@dataclass(frozen=True)
class Blob:
    """An object's bytes and ETag (``data`` None: unchanged since the ETag the caller passed)."""

    data: bytes | None
    etag: str


class Store(Protocol):
    """What the engine needs of an object store."""

    def get(self, key: str, *, unless_etag: str | None = None) -> Blob | None:
        """The object, None if absent, or a Blob without data if its ETag is still ``unless_etag``."""

    def head(self, key: str) -> str | None:
        """The object's ETag, or None if absent."""

    def put(self, key: str, data: bytes, *, if_match: str | None = None, if_absent: bool = False) -> str:
        """Write the whole object in one PUT; returns its ETag. Conflict if a condition fails."""

    def put_file(self, key: str, path: Path, *, if_match: str | None = None, if_absent: bool = False) -> str:
        """Upload a finished local file in one PUT (streamed); returns its ETag."""

    def download(self, key: str, dest: Path) -> str | None:
        """Fetch the object into ``dest`` atomically (temp file, then rename); its ETag, or None if absent."""

    def delete(self, key: str) -> None:
        """Remove the object (no error if absent)."""

    def list(self, prefix: str) -> dict[str, str]:
        """Every key under ``prefix`` with its ETag."""

    def children(self) -> list[str]:
        """The top-level names (project ids) in the store."""

    def url(self, key: str, *, disposition: str | None = None, media_type: str | None = None) -> str:
        """A time-limited URL a browser can GET (Range requests included), answered with these headers."""

    def url_origin(self) -> str:
        """The origin (``scheme://host[:port]``) of the URLs :meth:`url` gives, for the web page's CSP."""


def _etag(raw: str) -> str:
    return raw.strip('"')


class S3Store:
    """A bucket and key prefix on any S3-compatible server."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None, region: str | None = None,
                 url_expires_s: int = 3600) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url_expires_s = url_expires_s
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region or os.environ.get("AWS_REGION") or "us-east-1",
            config=Config(retries={"mode": "standard", "max_attempts": 5}, s3={"addressing_style": "path"},
                          max_pool_connections=32),
        )

    def _k(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    @staticmethod
    def _code(exc: Exception) -> str:
        return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))

    def get(self, key: str, *, unless_etag: str | None = None) -> Blob | None:
        """See :class:`Store`."""
        from botocore.exceptions import ClientError

        extra = {"IfNoneMatch": f'"{unless_etag}"'} if unless_etag else {}
        try:
            out = self.client.get_object(Bucket=self.bucket, Key=self._k(key), **extra)
        except ClientError as exc:
            code = self._code(exc)
            if code in ("NoSuchKey", "404"):
                return None
            if code == "304" and unless_etag:
                return Blob(None, unless_etag)
            raise
        return Blob(out["Body"].read(), _etag(out["ETag"]))

    def head(self, key: str) -> str | None:
        """See :class:`Store`."""
        from botocore.exceptions import ClientError

        try:
            return _etag(self.client.head_object(Bucket=self.bucket, Key=self._k(key))["ETag"])
        except ClientError as exc:
            if self._code(exc) in ("NoSuchKey", "404", "NotFound"):
                return None
            raise

    def _put(self, key: str, body: object, if_match: str | None, if_absent: bool) -> str:
        from botocore.exceptions import ClientError

        extra: dict[str, str] = {}
        if if_match:
            extra["IfMatch"] = f'"{if_match}"'
        elif if_absent:
            extra["IfNoneMatch"] = "*"
        try:
            out = self.client.put_object(Bucket=self.bucket, Key=self._k(key), Body=body, **extra)
        except ClientError as exc:
            if self._code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409", "NoSuchKey"):
                raise Conflict(f"{key}: changed by another writer") from None
            raise
        return _etag(out["ETag"])

    def put(self, key: str, data: bytes, *, if_match: str | None = None, if_absent: bool = False) -> str:
        """See :class:`Store`."""
        return self._put(key, data, if_match, if_absent)

    def put_file(self, key: str, path: Path, *, if_match: str | None = None, if_absent: bool = False) -> str:
        """See :class:`Store` (a single PUT, up to 5 GB: never a multipart upload someone could see unfinished)."""
        with open(path, "rb") as fh:
            return self._put(key, fh, if_match, if_absent)

    def download(self, key: str, dest: Path) -> str | None:
        """See :class:`Store`."""
        from botocore.exceptions import ClientError

        try:
            out = self.client.get_object(Bucket=self.bucket, Key=self._k(key))
        except ClientError as exc:
            if self._code(exc) in ("NoSuchKey", "404"):
                return None
            raise
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o644)
            with os.fdopen(fd, "wb") as fh:
                for chunk in out["Body"].iter_chunks(1 << 20):
                    fh.write(chunk)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return _etag(out["ETag"])

    def delete(self, key: str) -> None:
        """See :class:`Store`."""
        self.client.delete_object(Bucket=self.bucket, Key=self._k(key))

    def list(self, prefix: str) -> dict[str, str]:
        """See :class:`Store`."""
        out: dict[str, str] = {}
        cut = len(self._k(""))
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._k(prefix)):
            for item in page.get("Contents", []):
                out[item["Key"][cut:]] = _etag(item["ETag"])
        return out

    def children(self) -> list[str]:
        """See :class:`Store`."""
        names: list[str] = []
        cut = len(self._k(""))
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._k(""), Delimiter="/"):
            names.extend(p["Prefix"][cut:].rstrip("/") for p in page.get("CommonPrefixes", []))
        return sorted(names)

    def url(self, key: str, *, disposition: str | None = None, media_type: str | None = None) -> str:
        """See :class:`Store`."""
        params = {"Bucket": self.bucket, "Key": self._k(key), "ResponseCacheControl": "no-cache"}
        if disposition:
            params["ResponseContentDisposition"] = disposition
        if media_type:
            params["ResponseContentType"] = media_type
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=self.url_expires_s)

    def url_origin(self) -> str:
        """See :class:`Store` (read off a presigned URL, so virtual-hosted and path-style endpoints both answer)."""
        parsed = urlparse(self.url("origin-probe"))
        return f"{parsed.scheme}://{parsed.netloc}"


def parse_storage(value: str) -> tuple[str, str] | None:
    """``s3://bucket/prefix`` as (bucket, prefix); None for '' (local disk); InputError for anything else."""
    if not value or value in ("local", "disk"):
        return None
    parsed = urlparse(value)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise InputError(f"STORYBEAT_STORAGE={value!r}: expected s3://bucket/prefix (or unset for local disk)")
    return parsed.netloc, parsed.path.strip("/")


@functools.cache
def _store(storage: str, endpoint_url: str | None, region: str | None, url_expires_s: int) -> Store | None:
    parsed = parse_storage(storage)
    if parsed is None:
        return None
    return S3Store(parsed[0], parsed[1], endpoint_url=endpoint_url, region=region, url_expires_s=url_expires_s)


def get_store() -> Store | None:
    """The configured store, or None when the project folders on local disk are the storage."""
    s = get_settings()
    return _store(s.storage, s.s3_endpoint_url, s.s3_region, s.s3_url_expires_s)
