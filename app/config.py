"""Typed settings, read from ESCALATION_* environment variables and validated at start-up."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
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
    log_level: str = "info"
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

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'escalation.db').resolve()}"

    @property
    def is_embedded(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
