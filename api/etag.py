"""Versions over HTTP, one pattern for every edited resource (lyrics, scenes, settings).

A read answers with the value's version in the body and as the ``ETag`` header (:func:`with_etag`); a write
takes it back as ``If-Match`` (:data:`IfMatch`) and hands it to the engine action, which compares it under
the project lock (:func:`engine.versions.check_if_match`): a stale one is a 412 with the current version
(``ETag``) and value. A write without ``If-Match`` is applied (the CLI, old clients).
"""
from __future__ import annotations

from typing import Annotated

from fastapi import Header, Response
from pydantic import BaseModel

IfMatch = Annotated[str | None, Header(alias="If-Match", description="the version the edit was made on (412 when stale)")]


def with_etag(view: BaseModel, version: str, *, status_code: int = 200) -> Response:
    """``view`` as JSON with ``version`` as its ETag."""
    return Response(view.model_dump_json(), status_code=status_code, media_type="application/json",
                    headers={"ETag": f'"{version}"'})
