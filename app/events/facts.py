"""What the model sees of an event and of a dyad: the contract between storage, importers and features.

Training (importers reading ../shared/data) and serving (rows from the database) both reduce
events to `EventFact`s and dyads to `DyadContext`s, then call the same feature code.
"""

from dataclasses import dataclass
from datetime import date

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
class DyadContext:
    kind: str  # one of DYAD_KINDS
    contiguous: bool = False
    rivalry: bool = False
    major_power: bool = False  # either side is a major power
    past_armed_conflict: bool = False  # an interstate war / armed conflict between the two in an earlier year
