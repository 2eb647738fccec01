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
    # Worker processes of `escalation serve` (uvicorn's process manager); each loads the model once.
    workers: int = Field(1, ge=1, le=64)
    log_level: str = "info"
    # A key accepted with the admin scope besides those stored in the database (containers, first boot).
    bootstrap_api_key: SecretStr | None = None
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024)
    max_batch_items: int = Field(5000, ge=1)
    # Apply pending migrations when `escalation serve` starts on the embedded SQLite default.
    auto_migrate: bool = True

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'escalation.db').resolve()}"

    @property
    def is_embedded(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
