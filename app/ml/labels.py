"""Target definitions, in one place. The window before t is [t-29, t]; the horizon is [t+1, t+30].

escalation_30d   within the horizon the dyad reaches a higher maximum hostility level than in the
                 window before t, or suffers more fatalities in total than in the window before t.
                 For a dyad quiet before t, any event with hostility >= 1 or any death counts.
use_of_force_30d any event with hostility >= 4 (use of force or war) within the horizon.
fatal_30d        any event with at least one death within the horizon.
A sample's horizon must lie inside the data's coverage (dataset.py drops censored samples).
"""

from collections.abc import Sequence
from datetime import date

import numpy as np

from app.events.facts import EventFact
from app.ml.features import History

HORIZON = 30
TARGETS: tuple[str, ...] = ("escalation_30d", "use_of_force_30d", "fatal_30d")
PRIMARY = "escalation_30d"
DEFINITIONS: dict[str, str] = {
    "escalation_30d": "within 30 days after t the dyad reaches a higher max hostility level than over [t-29, t], "
    "or more fatalities than over [t-29, t]",
    "use_of_force_30d": "any event with hostility >= 4 (use of force / war) within 30 days after t",
    "fatal_30d": "any event with >= 1 fatality within 30 days after t",
}


def _range_max(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.array([values[a:b].max() if b > a else 0.0 for a, b in zip(lo, hi, strict=True)])


def label_matrix(h: History, as_of_days: np.ndarray) -> dict[str, np.ndarray]:
    """All targets for one history at many as-of day ordinals (vectorised over dates)."""
    t = np.asarray(as_of_days, dtype=np.int64)
    before = np.searchsorted(h.day, t - HORIZON, side="right")
    now = np.searchsorted(h.day, t, side="right")
    after = np.searchsorted(h.day, t + HORIZON, side="right")
    fat = np.concatenate([[0.0], np.cumsum(h.fatalities)])
    uof = np.concatenate([[0.0], np.cumsum(h.hostility >= 4)])
    fatal = np.concatenate([[0.0], np.cumsum(h.fatalities > 0)])
    host_prev, host_next = _range_max(h.hostility, before, now), _range_max(h.hostility, now, after)
    fat_prev, fat_next = fat[now] - fat[before], fat[after] - fat[now]
    return {
        "escalation_30d": ((host_next > host_prev) | (fat_next > fat_prev)).astype(np.int8),
        "use_of_force_30d": (uof[after] > uof[now]).astype(np.int8),
        "fatal_30d": (fatal[after] > fatal[now]).astype(np.int8),
    }


def labels_for(facts: Sequence[EventFact], as_of: date) -> dict[str, int]:
    """The targets of one dyad at one date (readable entry point for tests and audits)."""
    out = label_matrix(History(facts), np.array([as_of.toordinal()]))
    return {k: int(v[0]) for k, v in out.items()}
