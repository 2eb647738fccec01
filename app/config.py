"""Typed settings, read from ESCALATION_* environment variables and validated at start-up."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ESCALATION_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    # Empty means the embedded default: a SQLite file in data_dir.
    database_url: str = ""
    model_dir: Path = REPO_ROOT / "models"
    host: str = "127.0.0.1"
    port: int = 8000
    # Worker processes of `escalation serve` (uvicorn's process manager); each loads the model once.
    workers: int = Field(1, ge=1, le=64)
    log_level: str = "info"
    # "text" (one readable line a record) or "json" (one JSON object a line, for a log pipeline).
    log_format: Literal["text", "json"] = "text"
    # One line per request (client, method, path, status, milliseconds, request id) on escalation.access.
    access_log: bool = True
    # OpenTelemetry traces: "off", "otlp" (to the collector the standard OTEL_EXPORTER_OTLP_* variables name) or
    # "console" (printed). A span per request with its database statements, scoring and webhook deliveries.
    tracing: Literal["off", "otlp", "console"] = "off"
    # A key accepted with the admin scope besides those stored in the database (containers, first boot).
    bootstrap_api_key: SecretStr | None = None
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024)
    max_batch_items: int = Field(5000, ge=1)
    # Apply pending migrations when `escalation serve` starts on the embedded SQLite default.
    auto_migrate: bool = True
    # Webhooks: the delivery worker runs in the server; private/loopback targets only when allowed.
    webhooks_worker: bool = True
    webhooks_allow_private: bool = False
    webhooks_poll_seconds: float = Field(1.0, gt=0)
    webhooks_timeout_seconds: float = Field(10.0, gt=0)
    webhooks_retry_base_seconds: float = Field(5.0, gt=0)
    webhooks_retry_max_seconds: float = Field(3600.0, gt=0)
    # An endpoint failing without a success for this long is disabled (Standard Webhooks: a day).
    webhooks_disable_after_seconds: float = Field(86400.0, gt=0)
    # GET /v1/stream: how often the feed is read for new assessments, and keep-alive comments.
    stream_poll_seconds: float = Field(0.5, gt=0)
    stream_ping_seconds: int = Field(15, ge=1)
    # Seconds between re-reads of the API keys (a revocation applies within this time).
    key_refresh_seconds: float = Field(5.0, gt=0)
    # "N/second|minute|hour" (the `limits` notation) per API key, and per address for requests
    # without a valid key once keys exist; empty turns a limit off. Open (loopback) mode is never limited.
    rate_limit_per_key: str = ""
    rate_limit_per_address: str = "120/minute"
    # Writers in flight per process (default: `write_slots`). Beyond what the database runs at once,
    # more would only hold pooled connections and threads that reads and probes need.
    max_concurrent_writes: int | None = Field(None, ge=1)
    # Compare each fast answer with the slow path it stands for and fail loudly on a difference (the window
    # cache against a fresh read; on in tests: tests/conftest.py). Costs the reads the fast path saves.
    check_fast_paths: bool = False
    # PostgreSQL only. A statement under way this long makes the server probe the database; when the probe gets no
    # answer in as long, the statements under way fail as 503 database_unavailable (app.storage.watchdog), ~5 s in all.
    database_silence_seconds: float = Field(2.0, gt=0)
    # PostgreSQL's own limits for the server's sessions: one statement, and a transaction left idle (a client
    # gone behind a partition keeps its locks until then).
    database_statement_timeout_seconds: float = Field(60.0, gt=0)
    # How long a write waits for its turn before a 503 with Retry-After.
    write_wait_seconds: float = Field(10.0, ge=0)
    # A write's whole body must arrive within this time (408), read before it takes a write slot.
    body_timeout_seconds: float = Field(30.0, gt=0)
    # HTTP limits, applied by the application (headers) and by `escalation serve` (connections).
    max_header_bytes: int = Field(16 * 1024, ge=1024)
    max_connections: int = Field(1000, ge=1)
    header_timeout_seconds: float = Field(10.0, gt=0)
    keep_alive_seconds: int = Field(5, ge=1)
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated addresses or networks,
    # e.g. "10.0.0.5" for a load balancer). Empty: none, so a client cannot pick the address its rate limit,
    # loopback check and logs see by sending the header itself.
    forwarded_allow_ips: str = ""

    @field_validator("bootstrap_api_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("ESCALATION_BOOTSTRAP_API_KEY must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("rate_limit_per_key", "rate_limit_per_address")
    @classmethod
    def _rate(cls, value: str) -> str:
        from limits import parse_many

        if value:
            parse_many(value)  # raises ValueError on a malformed limit, at start-up
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'escalation.db').resolve()}"

    @property
    def is_embedded(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def write_slots(self) -> int:
        """SQLite runs one writer at a time (a second one is ready as the first commits); on PostgreSQL
        writers on different dyads overlap, up to the pool's 10 connections (app.database)."""
        return self.max_concurrent_writes or (2 if self.is_embedded else 10)


@lru_cache
def get_settings() -> Settings:
    return Settings()
