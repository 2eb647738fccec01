"""Which dyads an event affects, and what the model sees of the event.

An event affects the dyad of its two actors, and, when a state acts on another state's
territory against a target that is not a state (or none), the interstate dyad of the two states as
well: two foreign states fighting on a third's soil make no link with the host.
Member and dyad ids are spelled in `app.events.members`.
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import numpy as np

from app.events import members, vocabulary
from app.events.schemas import Actor, ActorKind, EventCreate
from app.events.facts import EventFact, FactColumns


@dataclass(frozen=True, slots=True)
class DyadLink:
    dyad_id: str
    member_a: str
    member_b: str
    kind: str
    initiator: str
    target: str | None
    territorial: bool  # derived from where it happened rather than who was targeted


def member_id(actor: Actor, location_country: str) -> str:
    if actor.kind is ActorKind.state:
        return members.state(actor.country)  # type: ignore[arg-type]  # validated: states have one
    if actor.kind is ActorKind.civilians:
        return members.civilians(actor.country or location_country)
    return members.nonstate(actor.name)


@lru_cache(maxsize=16_384)  # a batch links its events to a few hundred dyads: the same immutable links again and again
def _link(initiator: str, target: str, territorial: bool) -> DyadLink:
    a, b = sorted((initiator, target))
    return DyadLink(members.dyad_id(a, b), a, b, members.dyad_kind(a, b), initiator, target, territorial)


def links_for(event: EventCreate) -> list[DyadLink]:
    where = event.location.country
    return links_between(member_id(event.actor1, where), event.actor1.kind is ActorKind.state,
                         member_id(event.actor2, where) if event.actor2 else None,
                         event.actor2 is not None and event.actor2.kind is ActorKind.state, where)


def links_between(initiator: str, initiator_is_state: bool, target: str | None, target_is_state: bool,
                  where: str) -> list[DyadLink]:
    """The rule on member ids (what an event stores of its actors), so stored events can be linked again."""
    links = []
    if target is not None and target != initiator:
        links.append(_link(initiator, target, territorial=False))
    territory = members.state(where)
    # A state acting on another state's soil against a non-state or civilian target (the seed: Iran strikes
    # Jaish al-Adl in Pakistan) is linked with the host. Against a state, the host is only the venue: Iran and
    # Israel fighting in Syria is no act of either against Syria.
    if initiator_is_state and territory != initiator and not target_is_state:
        links.append(_link(initiator, territory, territorial=True))
    return links


def _standoff(weapons: Iterable[str]) -> bool:
    return bool(vocabulary.STANDOFF_WEAPONS.intersection(weapons))


def _cross_border(actor1_country: str | None, location_country: str) -> bool:
    return actor1_country is not None and actor1_country != location_country


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
    """The single place where a stored or imported event becomes model input (`make_columns`: many at once)."""
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
        cross_border=_cross_border(actor1_country, location_country),
        standoff=_standoff(weapons),
    )


def make_columns(
    initiators: Sequence[str],
    targets: Sequence[str | None],
    *,
    days: Sequence[int],
    actions: Sequence[str],
    weapons_json: Sequence[str],
    fatalities: Sequence[int | None],
    civilian_fatalities: Sequence[int | None],
    retaliation: Sequence[bool],
    actor1_country: Sequence[str | None],
    location_country: Sequence[str],
) -> FactColumns:
    """`make_fact` for many stored events at once, already in order (days as ordinals, weapons as the
    stored JSON text): the same rules, applied once per distinct action and weapon list."""
    n = len(days)
    distinct = dict.fromkeys(initiators)  # C-speed dedupe: Python work per distinct value, not per row
    distinct.update(dict.fromkeys(targets))
    distinct.pop(None, None)
    members = tuple(distinct)
    codes: dict[str | None, int] = {m: i for i, m in enumerate(members)}
    codes[None] = -1
    kinds = {a: i for i, a in enumerate(set(actions))}
    acts = [vocabulary.ACTIONS[a] for a in kinds]
    act = np.fromiter(map(kinds.__getitem__, actions), np.int64, n)
    places = list(zip(actor1_country, location_country))
    cross_border = {p: _cross_border(*p) for p in set(places)}
    standoff = {w: _standoff(json.loads(w)) for w in set(weapons_json)}

    def per_action(attr: str, dtype) -> np.ndarray:
        return np.array([getattr(a, attr) for a in acts], dtype=dtype)[act] if n else np.zeros(0, dtype)

    def count(values: Sequence[int | None]) -> np.ndarray:  # None (unknown) counts as 0, as in make_fact
        return np.nan_to_num(np.array(values, dtype=np.float64)).astype(np.int64)

    return FactColumns(
        members, np.array(days, dtype=np.int64), np.fromiter(map(codes.__getitem__, initiators), np.int64, n),
        np.fromiter(map(codes.__getitem__, targets), np.int64, n), per_action("hostility", np.int64), per_action("rung", np.int64),
        count(fatalities), count(civilian_fatalities), np.array(retaliation, dtype=bool),
        per_action("deescalation", bool), per_action("directed", bool),
        np.fromiter(map(cross_border.__getitem__, places), bool, n),
        np.fromiter(map(standoff.__getitem__, weapons_json), bool, n),
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
