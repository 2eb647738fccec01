"""Test database per backend (built by the real migrations), a fresh state per test, and the real app.

The suite runs on the embedded SQLite by default; set ESCALATION_TEST_DATABASE_URL to run it on
PostgreSQL (CI does both). SQLite tests copy a migrated template file; PostgreSQL tests truncate.
"""

import os
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app import migrate
from app.config import REPO_ROOT, Settings
from app.database import make_engine
from app.main import create_app
from app.ml.scorer import load_scorer
from app.models import metadata

PG_URL = os.environ.get("ESCALATION_TEST_DATABASE_URL", "")
# Fast paths compare their answers with the slow paths they stand for, in every test and in the servers tests
# start (which inherit the environment); a difference fails loudly (app.config.check_fast_paths).
os.environ.setdefault("ESCALATION_CHECK_FAST_PATHS", "true")


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite (embedded)'}"


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> str:
    """A database migrated to head once per session: a SQLite file to copy, or the PostgreSQL URL."""
    if PG_URL:
        engine = make_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        migrate.upgrade(PG_URL)
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture
def database_url(template_db: str, tmp_path: Path) -> str:
    if PG_URL:
        engine = make_engine(PG_URL)
        tables = ", ".join(t.name for t in metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return PG_URL
    path = tmp_path / "escalation.db"
    shutil.copy(template_db, path)
    return f"sqlite:///{path}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path)


@pytest.fixture(scope="session")
def scorer():
    """The bundled model, loaded (and hash-checked) once for the whole session."""
    return load_scorer(REPO_ROOT / "models")


@pytest.fixture
def client(settings: Settings, scorer):
    with TestClient(create_app(settings, scorer)) as c:
        yield c

