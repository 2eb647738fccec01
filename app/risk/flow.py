"""The one write path: store events (or a retraction), then assess the dyads they touched, in the caller's
transaction. The routes and `escalation import` call this, never the two services one after the other. The locks
it takes, their order and the deadlock retry are app.storage.locks'.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.events import service as event_service
from app.events.history import WindowCache
from app.events.schemas import EventCreate
from app.ml.scorer import Scorer
from app.observability import EVENTS_INGESTED
from app.risk import service as risk_service
from app.storage import locks



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

    written = locks.retried(session, write) if len(items) > 1 else write()
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

    return locks.retried(session, write)
