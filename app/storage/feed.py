"""The feed's head, read without the ORM, the session or a thread: the cross-process validity check of
every cached poll answer.

Assessment ids are taken in commit order (app.storage.feed.feed_lock) and every change to a dyad's
history appends one, so the largest committed id moves exactly when some answer may have
changed. A worker compares it with the head its cached answer was computed at: equal means no
other worker (or machine) has committed since, and the cached answer or a 304 stands. One
indexed read per poll on a connection of the worker's own: PostgreSQL through psycopg's async
connection, on the event loop; SQLite through sqlite3, whose read of a WAL database takes
microseconds and is done inline.
"""

import asyncio
import sqlite3

import psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.observability import FEED_HEAD
from app.storage.watchdog import DatabaseSilent, Watchdog, within

HEAD = "SELECT coalesce(max(id), 0) FROM assessment"


FEED_LOCK = 7_253_001  # an arbitrary, fixed advisory-lock key: "one transaction appends to the feed at a time"


def feed_lock(session: Session) -> None:
    """Hold the feed's append lock until commit, so rows appended after it take ids in commit order.

    Taken last, after all other locks and just before the appended rows are inserted: writers
    overlap in everything else. SQLite serialises writers at BEGIN IMMEDIATE already.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(FEED_LOCK)))
SQLITE_BUSY_SECONDS = 0.1  # the read runs on the event loop: a locked file must not stall every request
# Every poll waits on the read under way: one the network has swallowed (a dropped link answers nothing until TCP
# gives up, minutes later) fails them all after this long instead, as the database being unavailable.
POSTGRES_SECONDS = 5.0


class FeedHead:
    def __init__(self, database_url: str, watchdog: Watchdog | None = None):
        url = make_url(database_url)
        self._watchdog = watchdog
        self._sqlite = url.get_backend_name() == "sqlite"
        self._url = url.database if self._sqlite else url.set(drivername="postgresql").render_as_string(False)
        self._conn = None
        self._next: asyncio.Future | None = None  # the read that starts once the running one ends
        self._running = False

    async def read(self) -> int:
        """The id of the newest committed assessment (0 when there is none), read after this call began.

        Concurrent polls share reads: each waits for the next read to start (never one already
        under way, which might predate its caller's view), so a burst of polls costs one or two
        round trips instead of one each.
        """
        try:
            if self._sqlite:
                if self._conn is None:
                    self._conn = sqlite3.connect(self._url, isolation_level=None, check_same_thread=False,
                                                 timeout=SQLITE_BUSY_SECONDS)
                head = self._conn.execute(HEAD).fetchone()[0]
                FEED_HEAD.set(head)
                return head
            if self._watchdog is not None:
                self._watchdog.refuse_if_silent()
            if self._next is None:
                self._next = asyncio.get_running_loop().create_future()
                if not self._running:
                    self._running = True
                    asyncio.ensure_future(self._run())
            return await asyncio.shield(self._next)
        except (sqlite3.OperationalError, psycopg.OperationalError) as exc:
            # As SQLAlchemy wraps it elsewhere, so the service's handler answers 503 database_busy
            # (a locked file) or database_unavailable, never a 500.
            raise OperationalError(HEAD, None, exc) from exc

    async def _run(self) -> None:
        try:
            while self._next is not None:
                waiting, self._next = self._next, None
                try:
                    waiting.set_result(await self._query())
                except DatabaseSilent as exc:  # and so would the next read: its waiters need not wait to learn it
                    waiting.set_exception(exc)
                    if self._next is not None:
                        self._next.set_exception(exc)
                        self._next = None
                except Exception as exc:  # every waiter gets the database error
                    waiting.set_exception(exc)
        finally:
            self._running = False

    async def _query(self) -> int:
        for attempt in (1, 2):
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = await within(psycopg.AsyncConnection.connect(self._url, autocommit=True),
                                              POSTGRES_SECONDS)
                conn = self._conn
                head = await within(_head(conn), POSTGRES_SECONDS, conn)
                FEED_HEAD.set(head)
                return head
            except DatabaseSilent:
                self._conn = None
                raise
            except psycopg.OperationalError:
                self._conn = None  # the server restarted or dropped us: reconnect once
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._conn is not None:
            close = self._conn.close()
            if asyncio.iscoroutine(close):
                await close
            self._conn = None


async def _head(conn: psycopg.AsyncConnection) -> int:
    cur = await conn.execute(HEAD, prepare=True)
    return (await cur.fetchone())[0]
