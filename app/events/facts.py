"""What the model sees of an event and of a dyad: the contract between storage, importers and features.

Training (importers reading ../shared/data) and serving (rows from the database) both reduce
events to `EventFact`s and dyads to `DyadContext`s, then call the same feature code; the
features read facts as `FactColumns` (the database read builds those directly, `FactColumns.of`
converts a list of `EventFact`s).
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from operator import attrgetter

import numpy as np

DAY_BITS = 22  # day ordinals (date.toordinal) stay below 2**22 (year 9999): sort keys hold them in the low bits
DYAD_KINDS = ("state_state", "state_nonstate", "nonstate_nonstate", "state_civilians", "nonstate_civilians")


@dataclass(frozen=True, slots=True)
class EventFact:
    occurred_on: date
    initiator: str  # member id of actor1 within the dyad (e.g. "IRN", "nsa:jaish-al-adl")
    target: str | None  # member id of the other side of the dyad
    hostility: int  # 1..5, MID scale
    rung: int  # 0..10, app.events.vocabulary ladder
    fatalities: int = 0
    civilian_fatalities: int = 0
    retaliation: bool = False
    deescalation: bool = False
    directed: bool = True  # False for clashes / war battles: no known initiator
    cross_border: bool = False  # the event took place outside the initiator's own country
    standoff: bool = False  # a weapon from vocabulary.STANDOFF_WEAPONS was used


@dataclass(frozen=True, slots=True)
class Fronts:
    """A dyad's members' other active fronts as of a date (app.ml.fronts): the other dyads of either member (not
    civilians) with an event in the last 30 days, the deaths in those events, and those dyads, deadliest first."""

    count: int = 0
    deaths: int = 0
    dyads: tuple[tuple[str, int], ...] = ()  # (dyad id, deaths), deadliest first, at most a few (for the label)


NO_FRONTS = Fronts()


@dataclass(frozen=True, slots=True)
class DyadContext:
    kind: str  # one of DYAD_KINDS
    contiguous: bool = False
    rivalry: bool = False
    major_power: bool = False  # either side is a major power
    past_armed_conflict: bool = False  # an interstate war / armed conflict between the two in an earlier year
    fronts: Fronts = NO_FRONTS  # the members' other active fronts (not structural: read from other dyads' events)


@dataclass(frozen=True, slots=True, eq=False)
class FactColumns:
    """Many facts as parallel arrays, oldest first (same-day facts in the order given): what the
    feature and driver code read, so that a batch costs a few numpy passes instead of Python per event.

    `initiator` and `target` are codes into `members` (-1: no target). It reads as a sequence of
    `EventFact`s too (`len`, index, iteration), for the rare caller that wants one event at a time.
    """

    members: tuple[str, ...]  # distinct member ids
    day: np.ndarray  # int64 day ordinals (date.toordinal)
    initiator: np.ndarray  # int64
    target: np.ndarray  # int64, -1 for none
    hostility: np.ndarray  # int64
    rung: np.ndarray  # int64
    fatalities: np.ndarray  # int64
    civilian_fatalities: np.ndarray  # int64
    retaliation: np.ndarray  # bool
    deescalation: np.ndarray  # bool
    directed: np.ndarray  # bool
    cross_border: np.ndarray  # bool
    standoff: np.ndarray  # bool

    ARRAYS = ("day", "initiator", "target", "hostility", "rung", "fatalities", "civilian_fatalities", "retaliation",
              "deescalation", "directed", "cross_border", "standoff")

    @classmethod
    def of(cls, facts: "Sequence[EventFact] | FactColumns") -> "FactColumns":
        """Columns of `EventFact`s, sorted by day (stable)."""
        return facts if isinstance(facts, FactColumns) else cls.of_many([facts])[0]

    @classmethod
    def of_many(cls, histories: Sequence[Sequence[EventFact]]) -> "list[FactColumns]":
        """Columns of many lists of `EventFact`s, each sorted by day (stable): one pass over all of them."""
        flat = [f for facts in histories for f in facts]
        n = len(flat)

        def column(name: str, dtype) -> np.ndarray:  # one C-level pass per field: no tuple per fact to collect
            return np.fromiter(map(attrgetter(name), flat), dtype, n)

        initiators, targets = list(map(attrgetter("initiator"), flat)), list(map(attrgetter("target"), flat))
        distinct = dict.fromkeys(initiators)
        distinct.update(dict.fromkeys(targets))
        distinct.pop(None, None)
        codes: dict[str | None, int] = {m: i for i, m in enumerate(distinct)}
        members = tuple(codes)
        codes[None] = -1
        day = np.fromiter(map(date.toordinal, map(attrgetter("occurred_on"), flat)), np.int64, n)
        sizes = [len(facts) for facts in histories]
        history = np.repeat(np.arange(len(histories), dtype=np.int64), sizes)
        order = np.argsort(history << DAY_BITS | day, kind="stable")  # by history, then day; ties as given
        whole = cls(
            members, day[order], np.fromiter(map(codes.__getitem__, initiators), np.int64, n)[order],
            np.fromiter(map(codes.__getitem__, targets), np.int64, n)[order],
            *(column(name, np.int64)[order] for name in ("hostility", "rung", "fatalities", "civilian_fatalities")),
            *(column(name, bool)[order] for name in ("retaliation", "deescalation", "directed", "cross_border",
                                                     "standoff")),
        )
        bounds = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).tolist()
        return [whole.slice(bounds[k], bounds[k + 1]) for k in range(len(histories))]

    @classmethod
    def concat(cls, parts: "Sequence[FactColumns]") -> "FactColumns":
        """The parts end to end (copies), their member codes mapped onto one `members`."""
        if len(parts) == 1:
            return parts[0]
        distinct = {id(part.members): part.members for part in parts}  # the parts of one read share theirs
        index: dict[str, int] = {}
        for members in distinct.values():
            for m in members:
                index.setdefault(m, len(index))
        union = tuple(index)
        # per distinct `members`, old code -> new code (None: the same codes); the extra last entry keeps a -1
        # (no target)
        remaps = {key: None if members == union[:len(members)] else
                  np.array([index[m] for m in members] + [-1], dtype=np.int64) for key, members in distinct.items()}
        remap = [remaps[id(part.members)] for part in parts]
        return cls(union, *(
            np.concatenate([r[getattr(part, name)] if r is not None and name in ("initiator", "target")
                            else getattr(part, name) for r, part in zip(remap, parts, strict=True)])
            for name in cls.ARRAYS))

    def compact(self, max_members: int = 64) -> "FactColumns":
        """The facts with arrays of their own (a slice is a view of a larger read); past `max_members`, only
        the members they name (a read's `members` are every member of the read, and grow when reads merge)."""
        used = np.unique(np.concatenate([self.initiator, self.target])) if len(self.members) > max_members else ()
        used = used[used >= 0] if len(used) else used
        if len(used) in (0, len(self.members)):
            return FactColumns(self.members, *(getattr(self, name).copy() for name in self.ARRAYS))
        recode = np.full(len(self.members) + 1, -1, dtype=np.int64)  # the last entry keeps a -1 (no target)
        recode[used] = np.arange(len(used))
        members = tuple(self.members[i] for i in used.tolist())
        return FactColumns(members, *(recode[getattr(self, name)] if name in ("initiator", "target")
                                      else getattr(self, name).copy() for name in self.ARRAYS))

    def take(self, order: np.ndarray) -> "FactColumns":
        """The facts in the order of the indices given (copies)."""
        return FactColumns(self.members, *(getattr(self, name)[order] for name in self.ARRAYS))

    def slice(self, start: int, stop: int) -> "FactColumns":
        """Facts start..stop (views, no copy)."""
        return FactColumns(self.members, *(getattr(self, name)[start:stop] for name in self.ARRAYS))

    def __len__(self) -> int:
        return len(self.day)

    def __getitem__(self, i: int) -> EventFact:
        target = int(self.target[i])
        return EventFact(
            occurred_on=date.fromordinal(int(self.day[i])), initiator=self.members[self.initiator[i]],
            target=None if target < 0 else self.members[target], hostility=int(self.hostility[i]),
            rung=int(self.rung[i]), fatalities=int(self.fatalities[i]),
            civilian_fatalities=int(self.civilian_fatalities[i]), retaliation=bool(self.retaliation[i]),
            deescalation=bool(self.deescalation[i]), directed=bool(self.directed[i]),
            cross_border=bool(self.cross_border[i]), standoff=bool(self.standoff[i]),
        )

    def __iter__(self) -> Iterator[EventFact]:
        return (self[i] for i in range(len(self)))
