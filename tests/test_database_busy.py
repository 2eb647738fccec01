"""Lock waits and pool exhaustion answer 503 "busy" with Retry-After: retryable, distinct from "unreachable"."""

import asyncio
import socket
import sqlite3
import struct
import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.storage import engine as database
from app.main import create_app
from app.storage import feed as freshness
from app.storage.feed import FeedHead
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


def test_a_locked_sqlite_file_makes_a_poll_a_503_busy_at_once(client, tmp_path):
    """The feed-head read runs on the event loop: it waits briefly, then answers like any busy read.

    The app's own pooled connections keep its file shared, so the locked file is a second one whose head it reads.
    """
    locked = tmp_path / "locked.db"
    other = sqlite3.connect(locked, isolation_level=None)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("CREATE TABLE assessment (id INTEGER PRIMARY KEY)")
    other.execute("PRAGMA locking_mode=EXCLUSIVE")  # even WAL readers are locked out
    other.execute("BEGIN EXCLUSIVE")
    other.execute("INSERT INTO assessment VALUES (1)")
    client.app.state.feed_head = FeedHead(f"sqlite:///{locked}")
    try:
        started = time.monotonic()
        r = client.get("/v1/risk", params={"a": "PAK", "b": "IRN"})
        took = time.monotonic() - started
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert r.status_code == 503 and r.json()["error"] == "database_busy", r.text
    assert r.headers["retry-after"] == "1" and took < 2
    assert client.get("/v1/risk", params={"a": "PAK", "b": "IRN"}).status_code == 200


def _postgres_that_goes_silent() -> socket.socket:
    """A server that lets a client log in (trust), then swallows every query and every cancel request."""
    server = socket.create_server(("127.0.0.1", 0))

    def message(kind: bytes, body: bytes) -> bytes:
        return kind + struct.pack("!I", len(body) + 4) + body

    def session(conn: socket.socket) -> None:
        with conn:
            startup = conn.recv(struct.unpack("!I", conn.recv(4))[0] - 4)
            if struct.unpack("!I", startup[:4])[0] == 80877103:  # SSLRequest: refused, then the real startup
                conn.sendall(b"N")
                conn.recv(struct.unpack("!I", conn.recv(4))[0] - 4)
            conn.sendall(message(b"R", struct.pack("!I", 0)) + message(b"S", b"server_version\x0015.0\x00")
                         + message(b"S", b"client_encoding\x00UTF8\x00") + message(b"K", struct.pack("!II", 1, 2))
                         + message(b"Z", b"I"))
            while conn.recv(65536):
                pass

    def serve() -> None:
        first = True
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            if first:  # the session; later connections (psycopg's cancel requests) get no answer at all
                threading.Thread(target=session, args=(conn,), daemon=True).start()
                first = False

    threading.Thread(target=serve, daemon=True).start()
    return server


@pytest.mark.parametrize("logs_in", [False, True], ids=["connecting", "connected"])
def test_a_feed_head_read_the_database_never_answers_fails_in_seconds(monkeypatch, logs_in):
    """Every poll waits on the feed-head read under way: a database that never answers (a dropped link looks the
    same until TCP gives up, minutes later) must fail it as unavailable, soon, whether it stops answering before
    the connection is made or after (where cancelling the query would wait on the server again)."""
    silent = _postgres_that_goes_silent() if logs_in else socket.create_server(("127.0.0.1", 0))
    monkeypatch.setattr(freshness, "POSTGRES_SECONDS", 0.5)
    head = FeedHead(f"postgresql+psycopg://postgres@127.0.0.1:{silent.getsockname()[1]}/test?sslmode=disable")

    async def read() -> float:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="no answer from the database within 0.5 s"):
            await asyncio.wait_for(head.read(), 20)  # a hang fails the test instead of stalling it
        return time.monotonic() - started

    try:
        assert asyncio.run(read()) < 2
    finally:
        silent.close()
