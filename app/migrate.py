"""Alembic, driven from code: the configuration points at migrations/ and takes the URL from settings."""

from functools import lru_cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from app.config import REPO_ROOT


def config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    return cfg


@lru_cache
@lru_cache(maxsize=1)
def heads() -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(config("sqlite://")).get_heads())


def head_check(connection: Connection) -> dict:
    """Whether the database's revisions are the migrations' heads: `{ok, current, head}`."""
    return compare(set(MigrationContext.configure(connection).get_current_heads()))


def compare(current: set[str]) -> dict:
    """`{ok, current, head}` for the revisions a database is at."""
    head = set(heads())
    return {"ok": current == head, "current": sorted(current), "head": sorted(head)}


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(config(url), revision)
