"""Hand-made histories and the seed scenario, shared by the model tests."""

from datetime import date

from app.events.dyads import facts_for
from app.events.schemas import EventCreate
from app.events.facts import EventFact


def seed_events() -> list[EventCreate]:
    """Iran strikes Jaish al-Adl inside Pakistan (16 Jan 2024); Pakistan retaliates inside Iran (18 Jan)."""
    strike = {
        "source": "seed",
        "source_event_id": "irn-pak-2024-01-16",
        "occurred_on": "2024-01-16",
        "actor1": {"name": "Iran", "country": "IRN", "kind": "state"},
        "actor2": {"name": "Jaish al-Adl", "kind": "non_state"},
        "location": {"country": "PAK", "admin1": "Balochistan"},
        "action": "attack",
        "fatalities": 2,
        "civilian_fatalities": 2,
        "weapons": ["missile", "drone"],
    }
    retaliation = {
        "source": "seed",
        "source_event_id": "pak-irn-2024-01-18",
        "occurred_on": "2024-01-18",
        "actor1": {"name": "Pakistan", "country": "PAK", "kind": "state"},
        "actor2": {"name": "Baluchistan Liberation Front", "kind": "non_state"},
        "location": {"country": "IRN", "admin1": "Sistan and Baluchestan"},
        "action": "attack",
        "fatalities": 9,
        "civilian_fatalities": 7,
        "retaliation": True,
        "weapons": ["drone", "rocket", "loitering_munition", "standoff_weapon"],
    }
    return [EventCreate.model_validate(strike), EventCreate.model_validate(retaliation)]


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
