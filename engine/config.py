"""All configuration in one pydantic-settings object (environment variables STORYBEAT_*)."""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Engine and API settings, read from the environment."""

    model_config = SettingsConfigDict(env_prefix="STORYBEAT_", extra="ignore")

    data: Path = Field(default=Path("data"), description="root of the project folders")
    max_upload_mb: int = 100
    max_duration_s: float = 900.0
    min_duration_s: float = 2.0
    step_attempts: int = Field(default=3, ge=1, le=20, description="tries per step for transient errors")
    retry_base_s: float = 1.0
    retry_max_s: float = 30.0
    heartbeat_s: float = 2.0
    stale_after_s: float = 30.0
    render_workers: int = Field(default=2, ge=1, le=64)  # segments encoded at once
    # encode render chunks while the pictures are drawn: "auto" with a remote illustrator only (it waits on the
    # network, a core is free: draw + render 0.91-0.93x; with the local one no gain was measurable; render_speed.md)
    encode_ahead: Literal["auto", "on", "off"] = "auto"
    # Gemini
    gemini_base_url: str | None = None
    gemini_api_version: str = "v1beta"
    gemini_text_model: str = "gemini-2.5-flash"
    gemini_image_fast: str = "gemini-2.5-flash-image"
    gemini_image_pro: str = "gemini-3-pro-image-preview"
    gemini_timeout_s: float = 120.0
    gemini_rpm: int = 60
    gemini_upload_timeout_s: float = Field(default=300.0, gt=0, description="longest wait for an upload to become ACTIVE")
    gemini_max_wait_s: float = Field(default=120.0, ge=0, description="cap on one wait for the server's retry delay")
    gemini_batch_poll_s: float = Field(default=30.0, gt=0, description="wait between two looks at a Batch API job")
    # API
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    cors_origins: list[str] = Field(default_factory=list)
    body_timeout_s: float = Field(default=30.0, gt=0, description="longest wait for the next chunk of a request body (408 after)")
    keep_alive_s: int = Field(default=5, ge=1, description="how long an idle keep-alive connection stays open")
    worker_nice: int = Field(default=10, ge=0, le=19, description="CPU niceness of workers the API starts (the API stays responsive)")
    # storage (engine/store.py): unset keeps every project on local disk; s3://bucket/prefix makes the bucket the
    # storage and data/projects/ the local working copy
    storage: str = Field(default="", description="'' (local disk) or s3://bucket/prefix")
    s3_endpoint_url: str | None = Field(default=None, description="S3-compatible endpoint (MinIO, R2, GCS interop); None: AWS")
    s3_region: str | None = None
    s3_url_expires_s: int = Field(default=3600, ge=60, le=7 * 24 * 3600, description="lifetime of a presigned download URL")
    lease_ttl_s: float = Field(default=30.0, gt=0.5, description="a project lease held in the bucket expires this long after its last renewal")
    working_copy_keep_s: float = Field(default=24 * 3600.0, ge=0, description="with a bucket: a local working copy "
                                       "untouched this long is removed (engine/working_copies.py)")
    # workers across machines (engine/cluster.py): unset runs every unit on this machine, as always
    cluster: str = Field(default="", description="'' (this machine), tcp://host:port of a Dask scheduler, a scheduler .json file, or local:N")
    cluster_timeout_s: float = Field(default=30.0, gt=0, description="longest wait to connect to the cluster's scheduler")
    cluster_retries: int = Field(default=1, ge=0, le=10, description="extra tries of a unit that failed on a worker (a lost worker's unit is rescheduled anyway)")

    @property
    def projects_dir(self) -> Path:
        """data/projects."""
        return self.data / "projects"

    @property
    def gemini_key(self) -> str | None:
        """The Gemini API key from GEMINI_API_KEY or GOOGLE_API_KEY, if any."""
        return os.environ.get("GEMINI_API_KEY") or os.environ.get("GOOGLE_API_KEY") or None


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return Settings()
