"""Lock waits and pool exhaustion answer 503 "busy" with Retry-After: retryable, distinct from "unreachable"."""

import sqlite3

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app import database
from app.main import create_app
from tests.conftest import PG_URL
from tests.factories import IRAN_STRIKE


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's file lock")
def test_sqlite_locked_past_the_busy_timeout_is_a_503_busy(settings, scorer, database_url, monkeypatch):
    pragmas = database._sqlite_pragmas

    def short_wait(dbapi_connection, record):
        pragmas(dbapi_connection, record)
        dbapi_connection.execute("PRAGMA busy_timeout=200")  # instead of 30 s, to keep the test short

    monkeypatch.setattr(database, "_sqlite_pragmas", short_wait)
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    with TestClient(create_app(settings, scorer)) as client:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            r = client.post("/v1/events", json=IRAN_STRIKE)
        finally:
            other.execute("ROLLBACK")
        assert r.status_code == 503 and r.json()["error"] == "database_busy", r.text
        assert "locked" in r.json()["detail"] and r.headers["retry-after"] == "1"
        assert client.post("/v1/events", json=IRAN_STRIKE).status_code == 201  # the retry succeeds
    other.close()


def test_an_exhausted_pool_is_a_503_busy_not_a_500(client, monkeypatch):
    def no_connection(*_a, **_k):
        raise PoolTimeout("QueuePool limit of size 10 overflow 10 reached, connection timed out, timeout 30.00")

    # Simulated: the real exhaustion is driven by tests/test_hardening.py on PostgreSQL.
    monkeypatch.setattr(type(client.app.state.write_sessionmaker), "__call__", no_connection)
    r = client.post("/v1/events", json=IRAN_STRIKE)
    assert r.status_code == 503 and r.json()["error"] == "database_busy" and r.headers["retry-after"] == "1"
