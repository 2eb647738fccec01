"""Bounding every wait on a PostgreSQL that stops answering, without cutting short a wait that is legitimate.

A database behind a link that keeps its sockets open but forwards nothing (a partition, a frozen primary, a
proxy in between) answers no statement, and libpq waits for it without a limit: TCP keepalives and
`statement_timeout` cannot help, since the kernel at the other end of the socket (a proxy's) acknowledges
everything and the server never sees the query. So a statement is judged from outside. Once one has run for
`silence` seconds, a probe (`SELECT 1` on a connection of the watchdog's own, given the same time) asks
whether the database answers at all:

- it answers: the statement is slow, or waits on a lock another writer holds; it is left alone (the server's
  own `statement_timeout` and the writers' deadlock detection bound those);
- it does not: the database is marked silent, the sockets of the statements under way are shut down (libpq
  then fails them as a lost connection: 503 `database_unavailable`, and the pool drops them), new connections
  fail at once instead of waiting for `connect_timeout`, and the probe repeats until the database answers.

A statement the database does not answer thus fails within about `2 × silence + TICK` seconds (5 s by
default). The watchdog runs on the event loop (a probe is an await, shutting a socket down never blocks), and
reads each pooled connection's state with `PQtransactionStatus`, which does no I/O.
"""

import asyncio
import logging
import os
import socket
import threading
import time
import weakref

import psycopg
from psycopg import pq
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from app.storage.engine import CONNECT_DEFAULTS

log = logging.getLogger(__name__)

TICK = 0.5  # how often pooled connections are looked at; a stuck statement is noticed this much late at most
KEEP_WARM = 30.0  # the probe's own connection answers a probe at least this often, so it is never a stale one
SILENT = "no answer from the database"


class DatabaseSilent(psycopg.OperationalError):
    """The database did not answer within the time given (raised for connections refused while it is silent)."""


async def within(step, seconds: float, conn: psycopg.AsyncConnection | None = None):
    """`await step`, or DatabaseSilent after `seconds`. The step is then cancelled but not waited for: psycopg
    answers the cancellation of a query by asking the server to cancel it and waiting for its end (up to ~10 s
    more against a server that says nothing). `conn`, abandoned, is closed at once instead, which ends the step."""
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if done:
        return task.result()
    task.add_done_callback(lambda t: t.cancelled() or t.exception())  # its error is ours to drop
    task.cancel()
    if conn is not None:
        conn.pgconn.finish()
    raise DatabaseSilent(f"{SILENT} within {seconds:g} s")


class Watchdog:
    """Watches one PostgreSQL engine's pooled connections (see the module's docstring)."""

    def __init__(self, engine: Engine, silence: float):
        self.silence = silence
        self.silent = False  # the last probe got no answer
        url = make_url(engine.url)
        self._url = url.set(drivername="postgresql").render_as_string(False)
        self._connect_args = {k: v for k, v in CONNECT_DEFAULTS.items() if k not in url.query}
        # each pooled connection and its socket's local address (added to from worker threads)
        self._connections: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self._busy_since: dict[int, float] = {}  # id of a connection seen mid-statement -> when it was first seen so
        self._probe_conn: psycopg.AsyncConnection | None = None
        self._probed_at = 0.0
        # first among the connect listeners: the session settings the others send are watched too
        event.listen(engine, "connect", self._add, insert=True)
        event.listen(engine, "do_connect", lambda *_args: self.refuse_if_silent())

    def _add(self, dbapi_connection, _record) -> None:
        with self._lock:
            self._connections[dbapi_connection] = _local_address(dbapi_connection)

    def refuse_if_silent(self) -> None:
        """DatabaseSilent at once while the last probe got no answer: no caller waits out another timeout to learn
        it (new connections, the feed head, readiness)."""
        if self.silent:
            raise DatabaseSilent(f"{SILENT}: the last probe got none")

    async def run(self) -> None:
        try:
            await self.probe(self.silence)  # the probe's connection, opened before any statement needs it
            self._probed_at = time.monotonic()
            while True:
                await asyncio.sleep(TICK)
                try:
                    await self.check()
                except Exception:  # the watchdog must outlive anything it meets
                    log.exception("database watchdog round failed")
        finally:
            await self.close()

    async def check(self) -> None:
        now = time.monotonic()
        stuck = self._stuck(now)
        if not (self.silent or stuck) and now - self._probed_at >= KEEP_WARM:
            self._probed_at = now
            # nothing waits on this one: an answer lost on a connection gone stale is asked again on a new one
            if not await self.probe(self.silence) and not await self.probe(self.silence):
                log.error("database silent: no answer to two probes of %g s", self.silence)
                self.silent = True
            return
        if self.silent or (stuck and now - self._probed_at >= self.silence):
            self._probed_at = now
            answered = await self.probe(self.silence)
            if answered and self.silent:
                log.warning("database answers again")
            elif not answered and not self.silent:
                log.error("database silent: no answer to a probe within %g s; failing the statements under way",
                          self.silence)
            self.silent = not answered
        if self.silent:  # every statement under way waits on a database that does not answer
            for conn, address in self._under_way():
                _shut(conn, address)

    def _under_way(self) -> list[tuple[psycopg.Connection, tuple | None]]:
        with self._lock:
            connections = list(self._connections.items())
        return [(c, a) for c, a in connections
                if not c.closed and c.pgconn.transaction_status == pq.TransactionStatus.ACTIVE]

    def _stuck(self, now: float) -> bool:
        """Whether some statement has been under way for `silence` seconds (as far as samples every TICK show)."""
        seen = {id(c): self._busy_since.get(id(c), now) for c, _ in self._under_way()}
        self._busy_since = seen
        return any(now - since >= self.silence for since in seen.values())

    async def ask(self, sql: str, seconds: float) -> list[tuple]:
        """`sql`'s rows on the watchdog's own connection, or DatabaseSilent after `seconds` (also readiness's read:
        no pooled connection, no thread)."""
        try:
            if self._probe_conn is None or self._probe_conn.closed:
                self._probe_conn = None
                self._probe_conn = await within(psycopg.AsyncConnection.connect(
                    self._url, autocommit=True, **self._connect_args), seconds)
            conn = self._probe_conn
            cursor = await within(conn.execute(sql), seconds, conn)
            return await cursor.fetchall()
        except (DatabaseSilent, psycopg.OperationalError):
            self._probe_conn = None
            raise

    async def migration_heads(self, seconds: float) -> set[str]:
        """The revisions in the database's alembic_version table (readiness), on the watchdog's connection."""
        return {row[0] for row in await self.ask("SELECT version_num FROM alembic_version", seconds)}

    async def probe(self, seconds: float) -> bool:
        """Whether the database answers `SELECT 1` within `seconds` (an error it sends back is an answer too)."""
        try:
            await self.ask("SELECT 1", seconds)
            return True
        except DatabaseSilent:
            return False
        except psycopg.Error:
            # Refused, reset, or an error the server sent: every socket sees that at once; nothing waits silently.
            return True

    async def close(self) -> None:
        if self._probe_conn is not None:
            await self._probe_conn.close()
            self._probe_conn = None


def _local_address(conn: psycopg.Connection) -> tuple | None:
    try:
        with socket.socket(fileno=os.dup(conn.pgconn.socket)) as sock:
            return sock.getsockname()
    except (OSError, psycopg.OperationalError):
        return None


def _shut(conn: psycopg.Connection, address: tuple | None) -> None:
    """End the statement `conn` waits on: its socket is shut down, so libpq reads an end of stream at once. Only
    if the descriptor is still that socket (same local address): a connection closed meanwhile may have left its
    number to another one."""
    try:
        sock = socket.socket(fileno=os.dup(conn.pgconn.socket))
    except (OSError, psycopg.OperationalError):  # closed meanwhile
        return
    with sock:
        try:
            if address is not None and sock.getsockname() == address:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
