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

log = logging.getLogger(__name__)

TICK = 0.5  # how often pooled connections are looked at; a stuck statement is noticed this much late at most
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
        self._url = make_url(engine.url).set(drivername="postgresql").render_as_string(False)
        self._connections: weakref.WeakSet = weakref.WeakSet()  # added to from worker threads
        self._lock = threading.Lock()
        self._busy_since: dict[int, float] = {}  # id of a connection seen mid-statement -> when it was first seen so
        self._probe_conn: psycopg.AsyncConnection | None = None
        self._probed_at = 0.0
        event.listen(engine, "connect", self._add)
        event.listen(engine, "do_connect", self._refuse_while_silent)

    def _add(self, dbapi_connection, _record) -> None:
        with self._lock:
            self._connections.add(dbapi_connection)

    def _refuse_while_silent(self, *_args) -> None:
        if self.silent:  # not another connect_timeout for each request while the probe says nobody answers
            raise DatabaseSilent(f"{SILENT}: the last probe got none")

    async def run(self) -> None:
        try:
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
        due = self.silent or (stuck and now - self._probed_at >= self.silence)
        if due:
            self._probed_at = now
            answered = await self.probe(self.silence)
            if answered and self.silent:
                log.warning("database answers again")
            elif not answered and not self.silent:
                log.error("database silent: no answer to a probe within %g s; failing the statements under way",
                          self.silence)
            self.silent = not answered
        if self.silent:  # every statement under way waits on a database that does not answer
            for conn in self._under_way():
                _shut(conn)

    def _under_way(self) -> list[psycopg.Connection]:
        with self._lock:
            connections = list(self._connections)
        return [c for c in connections if not c.closed and c.pgconn.transaction_status == pq.TransactionStatus.ACTIVE]

    def _stuck(self, now: float) -> bool:
        """Whether some statement has been under way for `silence` seconds (as far as samples every TICK show)."""
        seen = {id(c): self._busy_since.get(id(c), now) for c in self._under_way()}
        self._busy_since = seen
        return any(now - since >= self.silence for since in seen.values())

    async def probe(self, seconds: float) -> bool:
        """Whether the database answers `SELECT 1` within `seconds` (an error it sends back is an answer too)."""
        try:
            if self._probe_conn is None or self._probe_conn.closed:
                self._probe_conn = None
                self._probe_conn = await within(psycopg.AsyncConnection.connect(self._url, autocommit=True),
                                                seconds)
            conn = self._probe_conn
            await within(conn.execute("SELECT 1"), seconds, conn)
            return True
        except DatabaseSilent:
            self._probe_conn = None
            return False
        except psycopg.Error:
            # Refused, reset, or an error the server sent: every socket sees that at once; nothing waits silently.
            self._probe_conn = None
            return True

    async def close(self) -> None:
        if self._probe_conn is not None:
            await self._probe_conn.close()
            self._probe_conn = None


def _shut(conn: psycopg.Connection) -> None:
    """End the statement `conn` waits on: its socket is shut down, so libpq reads an end of stream at once."""
    try:
        fd = conn.pgconn.socket
    except psycopg.OperationalError:  # closed meanwhile
        return
    with socket.socket(fileno=os.dup(fd)) as sock:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
