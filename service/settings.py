"""Service settings: one class, read from ABIS_* environment variables, injected everywhere."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can set. Secrets are never defaults: see `service.crypto.keyfile`."""

    model_config = SettingsConfigDict(env_prefix="ABIS_", frozen=True)

    dev: bool = Field(
        default=False,
        description="Development mode: generate a DEV master key in the data directory if none.",
    )
    synthetic_deployment: bool = Field(
        default=False,
        description="A deployment holding synthetic data only: enables the accuracy evaluation "
                    "search (POST /v1/evaluation/search). Needs ABIS_DEV=true: refused at "
                    "startup in production mode (docs/security.md).",
    )
    data_dir: Path = Path("abis-data")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: a SQLite file in the data directory."
    )
    master_key_file: Path | None = None
    master_key: str | None = Field(default=None, description="Base64 of 32 bytes (else the file).")
    audit_key_file: Path | None = Field(
        default=None, description="Ed25519 seed (base64) that signs audit checkpoints."
    )
    audit_checkpoint_every: int = Field(default=1000, ge=1, description="Events per checkpoint.")
    audit_checkpoint_seconds: float = Field(default=60.0, gt=0)
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"

    finger_dim: int = Field(default=128, ge=2, le=4096)
    face_dim: int = Field(default=512, ge=2, le=4096)
    finger_threshold: float = 0.5
    face_threshold: float = 0.35
    min_quality: float = Field(default=0.3, gt=0)
    max_template_norm: float = Field(
        default=10.0, gt=0, description="Templates with a larger raw norm are refused.")
    min_template_spread: float = Field(
        default=0.1, ge=0, lt=1,
        description="Templates whose values are more nearly constant (std/rms) are refused.")

    index: Literal["exact", "fast"] = Field(
        # fast since it agreed with exact on every decision of 1,000 + 1,000 searches at 1M and
        # at 100k and of the 100k-person synthetic evaluation set, re-scoring the candidates it
        # can report from the store (README, Performance).
        default="fast",
        description="Gallery engine: fast (PQ fast-scan, 4-bit re-rank, hits re-scored from the "
                    "store) or exact (float32 dense products, the oracle).",
    )
    fast_subvector_dim: int = Field(default=4, ge=1, description="Fast index: dims per code.")
    fast_candidates: int = Field(
        default=64, ge=1, description="Fast index: first top-k of the largest shard."
    )
    snapshot: bool = Field(default=True, description="Keep an encrypted gallery snapshot.")
    snapshot_file: Path | None = Field(
        default=None, description="Default: gallery.snapshot in the data directory."
    )
    snapshot_every: int = Field(
        default=100_000, ge=0, description="Write a snapshot after this many gallery changes."
    )
    snapshot_seconds: int = Field(
        default=3600, ge=0, description="...or this long after the first unsaved change (0: off)."
    )

    auth_cache_seconds: float = Field(
        default=5.0, ge=0, description="Cache authenticated keys this long (0: look up each time)."
    )
    rate_limit_per_minute: int = Field(
        default=0, ge=0,
        description="Requests a minute per API key, in bursts of as many; beyond: 429 with "
                    "Retry-After (0: no limit; docs/security.md).")
    auth_failure_threshold: int = Field(
        default=20, ge=0,
        description="Authentication failures from one client address within "
                    "ABIS_AUTH_FAILURE_WINDOW_SECONDS that raise a security:auth-failures "
                    "audit event (0: off).")
    auth_failure_window_seconds: float = Field(default=300.0, gt=0)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    batch_max: int = Field(default=64, ge=1, description="Most transmissions in one batch.")
    bulk_window: int = Field(default=512, ge=1, description="Bulk items in flight per request.")
    bulk_line_bytes: int = Field(
        default=256 * 1024, ge=1024, description="Largest line of a bulk (NDJSON) request body."
    )
    clock_skew_seconds: int = Field(default=300, ge=0)
    sweep_interval_seconds: float = Field(
        default=3600.0, gt=0, description="How often expired datasets are erased."
    )

    @cached_property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'abis.db').resolve()}"

    @cached_property
    def effective_snapshot_file(self) -> Path | None:
        if not self.snapshot:
            return None
        return self.snapshot_file or self.data_dir / "gallery.snapshot"

    @cached_property
    def effective_master_key_file(self) -> Path:
        return self.master_key_file or self.data_dir / "dev-master.key"

    @cached_property
    def effective_audit_key_file(self) -> Path:
        return self.audit_key_file or self.data_dir / "dev-audit.key"
