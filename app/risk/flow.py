"""The one write path: store events (or a retraction), then assess the dyads they touched, in the caller's
transaction. The routes and `escalation import` call this, never the two services one after the other.

Lock order, the same for every writer so that they cannot deadlock: new dyad rows (id order), then
new event keys (key order), then existing events (key order), then the touched dyads' rows (id
order), then the feed's append lock, after which the assessments' ids are drawn. The bulk writes
(app.bulk) keep these orders: staged rows are moved `ORDER BY` their key. Writers on different
dyads therefore overlap until the last short step.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.events import service as event_service
from app.events.history import WindowCache
from app.events.schemas import EventCreate
from app.ml.scorer import Scorer
from app.risk import service as risk_service


@dataclass
class Written:
    results: list[event_service.Ingested]  # one per item, in order
    assessed: int  # assessments stored


def ingest(session: Session, scorer: Scorer, items: Sequence[EventCreate], field_prefix: str = "",
           window_cache: WindowCache | None = None) -> Written:
    """Create, revise or recognise the items, then assess every dyad whose history changed (with `window_cache`,
    the process's cache of dyad windows, reading only what changed where it can)."""
    results = event_service.ingest(session, items, field_prefix=field_prefix)
    return Written(results, risk_service.reassess(session, scorer, results, window_cache))


def retract(session: Session, scorer: Scorer, event_id: int, window_cache: WindowCache | None = None) -> Written:
    """Tombstone an event, then assess the dyads it leaves."""
    result = event_service.retract(session, event_id)
    return Written([result], risk_service.reassess(session, scorer, [result], window_cache))
