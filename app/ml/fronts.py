"""Contagion: a dyad's members' other active fronts, from the events of every dyad they belong to.

One computation for training and serving. `Activity` holds, per member, the (day, dyad, deaths) of the
events of its dyads that open a front (a use of force, or deaths); `fronts` gives, for a dyad as of a date, the
other dyads of either member with such an event in the FRONT_WINDOW days up to the date, (t - 30, t], and the
deaths in those events (each event's once). Civilians are no
member here (they do not open fronts): the fronts of `SYR--civ:SYR` are Syria's. An event linked to two
dyads (a state acting against a group on another state's soil) is no front of either: it is each one's own. Training builds an
`Activity` from a source's whole history (app.ml.dataset); serving from a read of the members' dyads'
events over the dates asked (app.storage.windows.front_rows), so both count the same links.
"""

from bisect import bisect_right
from collections.abc import Hashable, Iterable, Sequence
from operator import itemgetter

from app.events import members as member_ids
from app.events.facts import NO_FRONTS, EventFact, Fronts

FRONT_WINDOW = 30  # days: a front is active with an event in (t - 30, t]
FRONT_HOSTILITY = 4  # ... that is a use of force or war, or killed someone: talks and threats open no front
NAMED = 3  # fronts a label names, deadliest first


def opens_front(hostility: int, fatalities: int) -> bool:
    """Whether an event makes its dyads active fronts: a use of force or war, or deaths. (The serving read,
    app.storage.windows.front_rows, applies the same test in SQL with FRONT_HOSTILITY.)"""
    return hostility >= FRONT_HOSTILITY or fatalities > 0


def acting(members: Sequence[str]) -> list[str]:
    """The members whose other dyads are fronts: states and non-state actors, not civilians."""
    return [m for m in members if not member_ids.is_civilians(m)]


class Activity:
    """Per member: the day ordinals, dyad ids and deaths of its dyads' events, by day; and per event, its dyads."""

    def __init__(self, rows: Iterable[tuple[str, int, str, int, Hashable]]):
        """`rows`: (member, day ordinal, dyad id, deaths, event key), one per event that `opens_front` and dyad of
        the member, in any order. An event also linked to the dyad asked about is that dyad's own, no other front
        of it (a strike on a group on another state's soil links the striker to both: one act, not two fronts)."""
        by: dict[str, list[tuple[int, str, int, Hashable]]] = {}
        self._links: dict[Hashable, set[str]] = {}
        for member, day, dyad_id, deaths, event in rows:
            by.setdefault(member, []).append((day, dyad_id, deaths, event))
            self._links.setdefault(event, set()).add(dyad_id)
        self._by: dict[str, tuple[list[int], list[tuple[str, int, Hashable]]]] = {}
        for member, found in by.items():
            found.sort(key=itemgetter(0))
            self._by[member] = ([r[0] for r in found], [r[1:] for r in found])

    @classmethod
    def of_histories(cls, histories: Iterable[tuple[str, Iterable[tuple[Hashable, EventFact]]]]) -> "Activity":
        """From (dyad id, (event key, fact) pairs): training's histories, one per dyad (or several parts of one's)."""
        return cls((member, fact.occurred_on.toordinal(), dyad_id, fact.fatalities, event)
                   for dyad_id, facts in histories for event, fact in facts
                   if opens_front(fact.hostility, fact.fatalities)
                   for member in acting(member_ids.dyad_members(dyad_id)))

    def fronts(self, dyad_id: str, members: Sequence[str], day: int) -> Fronts:
        """The dyad's members' other fronts as of the day ordinal `day`."""
        deaths: dict[str, int] = {}  # per other dyad
        killed: dict[Hashable, int] = {}  # per event: an event linked to two fronts killed its dead once
        for member in acting(members):
            found = self._by.get(member)
            if found is None:
                continue
            days, rows = found
            for k in range(bisect_right(days, day - FRONT_WINDOW), bisect_right(days, day)):
                other, dead, event = rows[k]
                if other != dyad_id and dyad_id not in self._links[event]:
                    deaths[other] = deaths.get(other, 0) + dead
                    killed[event] = dead
        if not deaths:
            return NO_FRONTS
        named = sorted(deaths.items(), key=lambda kv: (-kv[1], kv[0]))[:NAMED]
        return Fronts(len(deaths), sum(killed.values()), tuple(named))


NO_ACTIVITY = Activity(())
