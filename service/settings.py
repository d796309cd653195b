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
    data_dir: Path = Field(
        default=Path("abis-data"),
        description="Data directory: the SQLite file, dev keys and the gallery snapshot.",
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: a SQLite file in the data directory."
    )
    database_url_file: Path | None = Field(
        default=None, description="A file holding the database URL (a mounted secret: the URL "
                                  "carries the password); used when ABIS_DATABASE_URL is unset.",
    )
    master_key_file: Path | None = Field(
        default=None, description="File holding the master key (base64 of 32 bytes, mode 0600)."
    )
    master_key: str | None = Field(default=None, description="Base64 of 32 bytes (else the file).")
    retired_master_key_files: str = Field(
        default="", description="Comma-separated files of earlier master keys, kept only to open "
        "what they still wrap until `abis keys rotate-master` reports none left.",
    )
    audit_key_file: Path | None = Field(
        default=None, description="Ed25519 seed (base64) that signs audit checkpoints."
    )
    audit_trusted_public_keys: str = Field(
        default="", description="Comma-separated public keys (hex) of retired audit signing "
        "keys: the checkpoints they signed still verify after `abis keys rotate-audit`.",
    )
    audit_checkpoint_every: int = Field(default=1000, ge=1, description="Events per checkpoint.")
    audit_checkpoint_seconds: float = Field(
        default=60.0, gt=0, description="...or this long after the last checkpoint."
    )
    host: str = Field(default="127.0.0.1", description="Address the service listens on.")
    port: int = Field(default=8000, description="Port the service listens on.")
    log_level: str = Field(default="INFO", description="Log level (DEBUG, INFO, WARNING...).")

    finger_dim: int = Field(default=128, ge=2, le=4096, description="Finger template dimension.")
    face_dim: int = Field(default=512, ge=2, le=4096, description="Face template dimension.")
    finger_threshold: float = Field(
        default=0.5, description="Decision threshold on the fused fingerprint score."
    )
    face_threshold: float = Field(default=0.35, description="Decision threshold on the face.")
    min_quality: float = Field(
        default=0.3, gt=0, description="Minimum template norm (the norm encodes quality)."
    )
    target_fpir: float | None = Field(
        default=None, gt=0, lt=1,
        description="Follow the gallery size: recalibrate the finger and face thresholds for "
                    "this FPIR from the gallery's impostor scores (off by default; audited).")
    score_normalisation: Literal["none", "cohort"] = Field(
        default="none",
        description="Fingerprint score rule. none: the fused score against "
                    "ABIS_FINGER_THRESHOLD (a score, at most sqrt(10)). cohort: each probe's "
                    "fused scores in units of its own impostor spread against a cohort drawn "
                    "from the gallery (z-normalisation, docs/accuracy.md); "
                    "ABIS_FINGER_THRESHOLD is then a z threshold (above sqrt(10), e.g. 7). "
                    "A threshold of the other kind is refused at startup. Face scores are "
                    "never normalised.")
    cohort_size: int = Field(
        default=1000, ge=20, le=100_000,
        description="ABIS_SCORE_NORMALISATION=cohort: datasets with fingerprints in the cohort "
                    "(drawn from the store at load, redrawn when one of them leaves).")
    cohort_seed: int = Field(
        default=0, ge=0, lt=2**32,
        description="ABIS_SCORE_NORMALISATION=cohort: the draw's seed; the same seed and "
                    "gallery give the same cohort, in `abis serve` and `abis calibrate`.")
    calibrate_growth: float = Field(
        default=0.1, gt=0, description="Recalibrate when the gallery changed by this share.")
    calibrate_interval_seconds: float = Field(
        default=600.0, gt=0, description="How often the gallery size is checked.")
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

    tls_cert: Path | None = Field(
        default=None, description="PEM certificate (chain): serve HTTPS instead of HTTP."
    )
    tls_key: Path | None = Field(default=None, description="PEM private key of ABIS_TLS_CERT.")
    tls_client_ca: Path | None = Field(
        default=None,
        description="PEM CA bundle: require client certificates it signed (mutual TLS); keys "
                    "bound to a certificate (`abis keys bind-cert`) then also need that one.",
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
    auth_failure_window_seconds: float = Field(
        default=300.0, gt=0, description="The window of ABIS_AUTH_FAILURE_THRESHOLD.")
    max_body_bytes: int = Field(
        default=256 * 1024, ge=1024, description="Larger request bodies get 413 (bulk excepted)."
    )
    batch_max: int = Field(default=64, ge=1, description="Most transmissions in one batch.")
    bulk_window: int = Field(default=512, ge=1, description="Bulk items in flight per request.")
    bulk_line_bytes: int = Field(
        default=256 * 1024, ge=1024, description="Largest line of a bulk (NDJSON) request body."
    )
    clock_skew_seconds: int = Field(
        default=300, ge=0, description="How far in the future `taken_at` may be (clock skew)."
    )
    console_session_seconds: int = Field(
        default=900, ge=30, le=43200, description="Lifetime of a console session (/console)."
    )
    sweep_interval_seconds: float = Field(
        default=3600.0, gt=0, description="How often expired datasets are erased."
    )

    shards: str | None = Field(
        default=None,
        description="Shard servers: partitions separated by ',', replicas of one by '|' "
                    "(host:port). Unset: the gallery lives in this process.",
    )
    shard_listen: str = Field(default="127.0.0.1:7001", description="`abis shard` address.")
    shard_timeout_seconds: float = Field(default=10.0, gt=0, description="One shard call.")
    shard_inline_catch_up: int = Field(
        default=2_000, ge=0,
        description="A shard behind a search by up to this many log rows catches up before "
                    "answering; further behind, it refuses and catches up in the background.")
    metrics_listen: str | None = Field(
        default=None,
        description="`abis shard` and `abis writer`: host:port of this process's Prometheus "
                    "exporter (plain HTTP /metrics; keep it on loopback or a pod-internal "
                    "address). Unset: no exporter. The command's --metrics-listen wins.")
    index_log_keep: int = Field(
        default=100_000, ge=1,
        description="Index log rows always kept (the newest), whatever the shard replicas "
                    "report; older rows go once every replica's snapshot is past them.")
    index_log_prune_seconds: float = Field(
        default=300.0, gt=0, description="How often the writer prunes the index log.")
    index_log_report_max_age_seconds: float = Field(
        default=7 * 86_400.0, gt=0,
        description="A shard replica silent this long no longer holds the index log back; "
                    "if it comes back behind the pruned log, it rebuilds from the store.")
    index_log_report_seconds: float = Field(
        default=60.0, gt=0,
        description="How often a shard reports the log sequence it still needs (sooner when "
                    "it writes a snapshot).")
    # Internal gRPC (API workers, writer, shards); named apart from HTTPS's ABIS_TLS_CERT/KEY.
    internal_tls_ca_file: Path | None = Field(
        default=None, description="CA of the API, writer and shard certificates (internal "
                                  "gRPC, mutual TLS).")
    internal_tls_cert_file: Path | None = Field(
        default=None, description="This process's certificate on the internal gRPC channels.")
    internal_tls_key_file: Path | None = Field(
        default=None, description="This process's private key on the internal gRPC channels.")
    writer: str | None = Field(
        default=None,
        description="`abis api` workers: the writer's host:port (`abis writer`); mutual TLS "
                    "off loopback.")
    writer_listen: str = Field(default="127.0.0.1:7100", description="`abis writer` address.")
    writer_timeout_seconds: float = Field(
        default=30.0, gt=0, description="An API worker's wait for the writer's answer.")
    writer_in_flight: int = Field(
        default=48, ge=1,
        description="Most writes one API worker has at the writer at once (urgent ones "
                    "excepted); more wait in the worker, whose deadline starts when sent. "
                    "Bounds what the writer queues for one worker.")
    writer_wait: bool = Field(
        default=False,
        description="A second writer on the database stands by and takes over when the first's "
                    "lease ends, instead of refusing to start.",
    )

    @cached_property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        if self.database_url_file is not None:
            from service.errors import ConfigurationError

            try:
                return self.database_url_file.read_text().strip()
            except OSError as error:
                raise ConfigurationError(
                    f"ABIS_DATABASE_URL_FILE {self.database_url_file}: {error.strerror}"
                ) from error
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
    def retired_master_key_paths(self) -> list[Path]:
        return [Path(part.strip()) for part in self.retired_master_key_files.split(",")
                if part.strip()]

    @cached_property
    def effective_audit_key_file(self) -> Path:
        return self.audit_key_file or self.data_dir / "dev-audit.key"
