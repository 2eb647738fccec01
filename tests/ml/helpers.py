"""Hand-made histories and the seed scenario, shared by the model tests."""

from datetime import date

from app.events.dyads import facts_for
from app.events.schemas import EventCreate
from app.events.facts import EventFact
from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION


def seed_events() -> list[EventCreate]:
    """The seed scenario of `tests.factories` through the API contract."""
    return [EventCreate.model_validate(e) for e in (IRAN_STRIKE, PAKISTAN_RETALIATION)]


def dyad_facts(events: list[EventCreate], dyad: str) -> list[EventFact]:
    return [fact for event in events for link, fact in facts_for(event) if link.dyad_id == dyad]


def fact(day: date, initiator: str = "AAA", target: str | None = "BBB", **kw) -> EventFact:
    """A small factory for hand-made histories (use of force, no deaths unless given)."""
    return EventFact(
        occurred_on=day,
        initiator=initiator,
        target=target,
        hostility=kw.pop("hostility", 4),
        rung=kw.pop("rung", 8),
        **kw,
    )
