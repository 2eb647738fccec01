"""Target definitions, in one place. The horizon after an as-of date t is the 30 days (t, t+30].

serious_violence_30d (primary) the dyad's members suffer at least 25 deaths in events between them
                     within the horizon (either direction, on either's territory): UCDP's
                     armed-conflict threshold on a 30-day window, the line between a crisis and
                     a conflict.
use_of_force_30d     any event with hostility >= 4 (use of force or war) within the horizon.
fatal_30d            any event with at least one death within the horizon.
A sample's horizon must lie inside the data's coverage (dataset.py drops censored samples).
`escalation_30d` (worse than the previous 30 days) was dropped in v2: see the model card.
"""

from collections.abc import Sequence
from datetime import date

import numpy as np

from app.events.facts import EventFact
from app.ml.features import History

HORIZON = 30
SERIOUS_DEATHS = 25
TARGETS: tuple[str, ...] = ("serious_violence_30d", "use_of_force_30d", "fatal_30d")
PRIMARY = "serious_violence_30d"
DEFINITIONS: dict[str, str] = {
    "serious_violence_30d": f"at least {SERIOUS_DEATHS} deaths in events between the dyad's members (either "
    "direction, on either's territory) in the 30 days after t, (t, t+30]: UCDP's armed-conflict threshold "
    "on a 30-day window",
    "use_of_force_30d": "any event with hostility >= 4 (use of force / war) in the 30 days after t",
    "fatal_30d": "any event with >= 1 fatality in the 30 days after t",
}


def label_matrix(h: History, as_of_days: np.ndarray) -> dict[str, np.ndarray]:
    """All targets for one history at many as-of day ordinals (vectorised over dates)."""
    t = np.asarray(as_of_days, dtype=np.int64)
    now = np.searchsorted(h.day, t, side="right")
    after = np.searchsorted(h.day, t + HORIZON, side="right")
    fat = np.concatenate([[0.0], np.cumsum(h.fatalities)])
    uof = np.concatenate([[0.0], np.cumsum(h.hostility >= 4)])
    fatal = np.concatenate([[0.0], np.cumsum(h.fatalities > 0)])
    return {
        "serious_violence_30d": (fat[after] - fat[now] >= SERIOUS_DEATHS).astype(np.int8),
        "use_of_force_30d": (uof[after] > uof[now]).astype(np.int8),
        "fatal_30d": (fatal[after] > fatal[now]).astype(np.int8),
    }


def previous_matrix(h: History, as_of_days: np.ndarray) -> dict[str, np.ndarray]:
    """Each target's own value over the previous 30 days, (t-30, t]: the textbook persistence forecast's input.

    The same definitions as `label_matrix`, applied to the window that ends at t, so only events with
    occurred_on <= t are read (point-in-time)."""
    return label_matrix(h, np.asarray(as_of_days, dtype=np.int64) - HORIZON)


def labels_for(facts: Sequence[EventFact], as_of: date) -> dict[str, int]:
    """The targets of one dyad at one date (readable entry point for tests and audits)."""
    out = label_matrix(History(facts), np.array([as_of.toordinal()]))
    return {k: int(v[0]) for k, v in out.items()}
