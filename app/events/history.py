"""A dyad's stored history as the model sees it: rows through the same make_fact that training uses."""

import json
from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from app.events import dyads as dyad_rules
from app.events.models import Event, EventDyad
from app.events.facts import EventFact


@lru_cache(maxsize=4096)
def _weapons(stored: str) -> tuple[str, ...]:
    # Histories repeat a handful of weapon lists; decoding each distinct JSON text once saves a
    # json.loads per event on every re-assessment.
    return tuple(json.loads(stored))


def facts_by_dyad(session: Session, dyad_ids: Sequence[str]) -> dict[str, list[EventFact]]:
    """Each dyad's live (unretracted) history, oldest first, as the model sees it."""
    out: dict[str, list[EventFact]] = {d: [] for d in dyad_ids}
    if not dyad_ids:
        return out
    stmt = (
        select(EventDyad.dyad_id, EventDyad.initiator, EventDyad.target, Event.occurred_on, Event.action,
               cast(Event.weapons, Text).label("weapons"), Event.fatalities, Event.civilian_fatalities,
               Event.retaliation, Event.actor1_country, Event.location_country)
        .join(Event, Event.id == EventDyad.event_id)
        .where(EventDyad.dyad_id.in_(dyad_ids), Event.retracted_at.is_(None))
        .order_by(Event.occurred_on, Event.id)
    )
    for r in session.execute(stmt):
        out[r.dyad_id].append(dyad_rules.make_fact(
            r.initiator, r.target, occurred_on=r.occurred_on, action=r.action, weapons=_weapons(r.weapons),
            fatalities=r.fatalities, civilian_fatalities=r.civilian_fatalities, retaliation=r.retaliation,
            actor1_country=r.actor1_country, location_country=r.location_country))
    return out
