"""Fingerprints tie every output to the inputs, settings and step version that made it."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel


def _default(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, Path):
        return obj.as_posix()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"cannot fingerprint {type(obj).__name__}")


def fingerprint(*parts: Any) -> str:
    """A stable sha256 (hex, 32 chars) of JSON-serialisable parts (models, dicts, lists, scalars)."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=_default)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def file_sha256(path: Path, *, chunk_bytes: int = 1 << 20) -> str:
    """Full sha256 (hex) of a file's contents."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def bytes_sha256(data: bytes) -> str:
    """Full sha256 (hex) of bytes."""
    return hashlib.sha256(data).hexdigest()
