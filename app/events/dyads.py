"""Which dyads an event affects, how their ids are formed, and what the model sees of the event.

Member ids: a state is its ISO3 code (`PAK`); a non-state actor is `nsa:` plus a slug of its
name (`nsa:jaish-al-adl`; a name with no Latin letters or digits: `nsa:x-` and 12 hex digits of
its SHA-256); civilians are `civ:` plus the ISO3 of the territory (`civ:PAK`).
A dyad id is its two member ids, sorted, joined by `--` (`IRN--PAK`); slugs never hold `--`.
An event affects the dyad of its two actors, and, when a state acts on another state's
territory against anyone but that state, the interstate dyad of the two states as well.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime

from app.events import vocabulary
from app.events.schemas import Actor, ActorKind, EventCreate
from app.events.facts import EventFact

SEPARATOR = "--"


@dataclass(frozen=True, slots=True)
class DyadLink:
    dyad_id: str
    member_a: str
    member_b: str
    kind: str
    initiator: str
    target: str | None
    territorial: bool  # derived from where it happened rather than who was targeted


def slug(name: str) -> str:
    """Lower-case ASCII words joined by '-'; a name with none (e.g. in Arabic script) gets a stable hash."""
    words = re.sub(r"[^a-z0-9]+", "-", name.lower())[:80].strip("-")
    return words or "x-" + hashlib.sha256(name.strip().encode()).hexdigest()[:12]


def member_id(actor: Actor, location_country: str) -> str:
    if actor.kind is ActorKind.state:
        return actor.country  # type: ignore[return-value]  # validated: states have one
    if actor.kind is ActorKind.civilians:
        return f"civ:{actor.country or location_country}"
    return f"nsa:{slug(actor.name)}"


def _kind_of(member: str) -> str:
    return "civilians" if member.startswith("civ:") else "nonstate" if member.startswith("nsa:") else "state"


def dyad_kind(a: str, b: str) -> str:
    order = {"state": 0, "nonstate": 1, "civilians": 2}
    first, second = sorted((_kind_of(a), _kind_of(b)), key=order.__getitem__)
    return f"{first}_{second}"


def dyad_id(a: str, b: str) -> str:
    return SEPARATOR.join(sorted((a, b)))


def members(dyad: str) -> tuple[str, str]:
    """The two member ids of a dyad id (slugs never hold the separator)."""
    a, b = dyad.split(SEPARATOR)
    return a, b


def _link(initiator: str, target: str, territorial: bool) -> DyadLink:
    a, b = sorted((initiator, target))
    return DyadLink(dyad_id(a, b), a, b, dyad_kind(a, b), initiator, target, territorial)


def links_for(event: EventCreate) -> list[DyadLink]:
    where = event.location.country
    initiator = member_id(event.actor1, where)
    links = []
    target = member_id(event.actor2, where) if event.actor2 else None
    if target is not None and target != initiator:
        links.append(_link(initiator, target, territorial=False))
    if event.actor1.kind is ActorKind.state and where != event.actor1.country and target != where:
        links.append(_link(initiator, where, territorial=True))
    return links


def make_fact(
    link_initiator: str,
    link_target: str | None,
    *,
    occurred_on: date,
    action: str,
    weapons: list[str] | tuple[str, ...],
    fatalities: int | None,
    civilian_fatalities: int | None,
    retaliation: bool,
    actor1_country: str | None,
    location_country: str,
) -> EventFact:
    """The single place where a stored or imported event becomes model input."""
    act = vocabulary.ACTIONS[action]
    return EventFact(
        occurred_on=occurred_on,
        initiator=link_initiator,
        target=link_target,
        hostility=act.hostility,
        rung=act.rung,
        fatalities=fatalities or 0,
        civilian_fatalities=civilian_fatalities or 0,
        retaliation=retaliation,
        deescalation=act.deescalation,
        directed=act.directed,
        cross_border=actor1_country is not None and actor1_country != location_country,
        standoff=bool(vocabulary.STANDOFF_WEAPONS.intersection(weapons)),
    )


def occurred_day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def facts_for(event: EventCreate) -> list[tuple[DyadLink, EventFact]]:
    """Each dyad the event affects, with the event as that dyad's model sees it (importers, training)."""
    action, implied = event.resolved_action()
    weapons = sorted(set(event.weapons) | set(implied))
    return [
        (
            link,
            make_fact(
                link.initiator,
                link.target,
                occurred_on=occurred_day(event.occurred_on),
                action=action.name,
                weapons=weapons,
                fatalities=event.fatalities,
                civilian_fatalities=event.civilian_fatalities,
                retaliation=event.retaliation,
                actor1_country=event.actor1.country,
                location_country=event.location.country,
            ),
        )
        for link in links_for(event)
    ]
