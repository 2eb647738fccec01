"""The one write path: store events (or a retraction), then assess the dyads they touched, in the caller's
transaction. The routes and `escalation import` call this, never the two services one after the other.

Lock order, the same for every writer: new dyad rows (id order), then new event keys (key order), then
existing events (key order), then the touched dyads' rows (id order), then the feed's append lock, after
which the assessments' ids are drawn. The bulk writes (app.bulk) keep these orders: staged rows are moved
`ORDER BY` their key. Writers on different dyads therefore overlap until the last short step.

One case escapes the order: a batch whose `responds_to` names an event created earlier in the same batch is
written in runs (app.events.references), each run taking its event locks in key order but after the runs
before it, so two such batches sharing keys in opposite runs can wait on each other. PostgreSQL breaks the
deadlock by failing one of them (after `deadlock_timeout`, 1 s by default); that one runs again here from a
savepoint, once the other's locks are gone, instead of failing its request. Only writes of several events can
be caught so: one that holds a single event's lock (one item, a retraction) waits after it only for dyad rows
and the feed lock, whose holders wait for no event; so those skip the savepoint (a round trip each).
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.events import service as event_service
from app.events.history import WindowCache
from app.events.schemas import EventCreate
from app.ml.scorer import Scorer
from app.observability import EVENTS_INGESTED, WRITE_RETRIES
from app.risk import service as risk_service

log = logging.getLogger(__name__)
DEADLOCK_RETRIES = 3  # runs again after a deadlock, before the error reaches the caller (a 503 database_busy)
T = TypeVar("T")


@dataclass
class Written:
    results: list[event_service.Ingested]  # one per item, in order
    assessed: int  # assessments stored


def ingest(session: Session, scorer: Scorer, items: Sequence[EventCreate], field_prefix: str = "",
           window_cache: WindowCache | None = None) -> Written:
    """Create, revise or recognise the items, then assess every dyad whose history changed (with `window_cache`,
    the process's cache of dyad windows, reading only what changed where it can)."""
    def write() -> Written:
        results = event_service.ingest(session, items, field_prefix=field_prefix)
        return Written(results, risk_service.reassess(session, scorer, results, window_cache))

    written = _retried(session, write) if len(items) > 1 else write()
    for status in ("created", "unchanged", "revised"):
        if count := sum(r.status == status for r in written.results):
            EVENTS_INGESTED.labels(status).inc(count)
    return written


def retract(session: Session, scorer: Scorer, event_id: int, window_cache: WindowCache | None = None) -> Written:
    """Tombstone an event, then assess the dyads it leaves."""
    result = event_service.retract(session, event_id)
    return Written([result], risk_service.reassess(session, scorer, [result], window_cache))


def relink(session: Session, scorer: Scorer, event_ids: Sequence[int],
           window_cache: WindowCache | None = None) -> Written:
    """Derive stored events' dyad links again under today's rules, then assess the dyads they left and joined
    (several events' locks: run again after a deadlock, as a batch is)."""
    def write() -> Written:
        results = event_service.relink(session, event_ids)
        return Written(results, risk_service.reassess(session, scorer, results, window_cache))

    return _retried(session, write)


def _retried(session: Session, write: Callable[[], T]) -> T:
    """`write()` on PostgreSQL in a savepoint, run again where the database failed it to break a deadlock: the
    savepoint's rollback undoes it and releases its locks, so the other writer finishes and this one follows.
    SQLite has one writer at a time and needs none of it."""
    if session.get_bind().dialect.name != "postgresql":
        return write()
    retries = 0
    while True:
        try:
            with session.begin_nested():
                return write()
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != "40P01" or retries == DEADLOCK_RETRIES:
                raise
            retries += 1
            WRITE_RETRIES.inc()
            log.warning("a write was failed to break a deadlock; running it again (retry %d)", retries)
