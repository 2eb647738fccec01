"""The one feature builder: a dyad's event history as of a date -> a fixed-length vector.

Only facts with `occurred_on <= as_of` are used. Training and serving both call `build_matrix`.
The explicit `retaliation` flag and inferred responses (the last target strikes back at the last
initiator within 30 days) feed the same reciprocity features, because the training data (MIE,
ICB, GED) carry no flag: direction is what the model learns reciprocity from. Only militarized
acts (threat or worse, not a de-escalation) count as strikes. `deescalated_since_fighting` is
set when talks, an agreement, a ceasefire or a withdrawal within the last 90 days came on or
after the dyad's last use of force, and that use of force was within the last year.
"""

from collections.abc import Sequence
from datetime import date

import numpy as np

from app.events.facts import DYAD_KINDS, DyadContext, EventFact

RESPONSE_WINDOW = 30  # days within which a strike back counts as a response
CALM_WINDOW = 90  # a de-escalation this recent, after the last use of force, counts as calming
FIGHTING_WINDOW = 365  # ... provided that use of force was within this many days
NEVER = 3650  # days since the last event for a dyad with none (beyond the 730-day decay samples)
# The farthest back a feature looks from its date: year-long windows, plus two response windows so
# that the strikes answered inside the year are linked. Serving reads this much history (and the
# dyad's first event, for history_days); a tit-for-tat chain is counted from the window's start.
LOOKBACK_DAYS = 365 + 2 * RESPONSE_WINDOW

FEATURE_NAMES: tuple[str, ...] = (
    # tempo
    "events_7d",
    "events_30d",
    "events_365d",
    "days_since_last",
    "events_trend_30d",
    "history_days",
    # severity
    "max_hostility_30d",
    "max_hostility_365d",
    "last_hostility",
    "max_rung_30d",
    "last_rung",
    "hostility_trend_30d",
    "use_of_force_30d",
    # casualties
    "log_fatalities_30d",
    "log_fatalities_365d",
    "log_civilian_fatalities_30d",
    "fatal_events_30d",
    "fatality_trend_30d",
    "log_fatalities_7d",
    # reciprocity / retaliation
    "responses_30d",
    "reciprocated_30d",
    "tit_for_tat_chain_30d",
    "response_lag_days",
    # who is involved
    *(f"kind_{k}" for k in DYAD_KINDS),
    "cross_border_30d",
    "standoff_30d",
    "deescalation_30d",
    "deescalated_since_fighting",
    "major_power",
    # structural context
    "contiguous",
    "rivalry",
    "past_armed_conflict",
)
INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}


class History:
    """A dyad's facts as sorted arrays with running sums, so each as-of date costs a few bisections."""

    def __init__(self, facts: Sequence[EventFact]):
        facts = sorted(facts, key=lambda f: f.occurred_on)
        n = len(facts)
        self.day = np.array([f.occurred_on.toordinal() for f in facts], dtype=np.int64)
        self.hostility = np.array([f.hostility for f in facts], dtype=np.float64)
        self.rung = np.array([f.rung for f in facts], dtype=np.float64)
        self.fatalities = np.array([f.fatalities for f in facts], dtype=np.float64)
        resp, lag, chain = _reciprocity(facts)
        self.lag, self.chain = lag, chain
        cols = [
            np.ones(n),
            self.fatalities,
            [f.civilian_fatalities for f in facts],
            self.fatalities > 0,
            self.hostility >= 4,
            resp,
            [f.cross_border for f in facts],
            [f.standoff for f in facts],
            [f.deescalation for f in facts],
            [f.retaliation for f in facts],
        ]
        self.cum = np.zeros((n + 1, len(cols)))
        if n:
            self.cum[1:] = np.cumsum(np.column_stack([np.asarray(c, dtype=np.float64) for c in cols]), axis=0)
        self.initiator = [f.initiator if _militarized(f) else None for f in facts]
        self.deesc_days = self.day[np.array([f.deescalation for f in facts], dtype=bool)]
        self.force_days = self.day[self.hostility >= 4]

    def upto(self, day: int) -> int:
        """Number of facts on or before `day`."""
        return int(np.searchsorted(self.day, day, side="right"))


# Column order of History.cum.
_N, _FAT, _CIV, _FATAL, _UOF, _RESP, _CROSS, _STANDOFF, _DEESC, _FLAGGED = range(10)


def _militarized(f: EventFact) -> bool:
    """A directed hostile act (threat or worse): talks, agreements and non-militarized acts are no strike."""
    return f.directed and f.hostility >= 2 and not f.deescalation


def _last(days: np.ndarray, t: int) -> int | None:
    i = int(np.searchsorted(days, t, side="right"))
    return int(days[i - 1]) if i else None


def _reciprocity(facts: Sequence[EventFact]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per fact: is it a response (flagged or inferred), its lag in days, and its tit-for-tat chain length."""
    n = len(facts)
    resp, lag, chain = np.zeros(n), np.full(n, np.nan), np.zeros(n)
    for i, f in enumerate(facts):
        if not _militarized(f) or f.target is None:
            resp[i] = f.retaliation
            continue
        chain[i] = 1
        for j in range(i - 1, -1, -1):  # latest earlier strike the other way, within the window
            g = facts[j]
            gap = (f.occurred_on - g.occurred_on).days
            if gap > RESPONSE_WINDOW:
                break
            if _militarized(g) and g.initiator == f.target and g.target == f.initiator:
                resp[i], lag[i], chain[i] = 1, gap, chain[j] + 1
                break
        if f.retaliation and not resp[i]:
            resp[i], chain[i] = 1, 2  # answers something outside this dyad's recorded history
    return resp, lag, chain


def _window(h: History, lo: int, hi: int) -> np.ndarray:
    return h.cum[hi] - h.cum[lo]


def features_into(out: np.ndarray, h: History, as_of: date, context: DyadContext) -> None:
    """Fill `out` (len(FEATURE_NAMES)) with the features of history `h` as of `as_of`."""
    t = as_of.toordinal()
    end = h.upto(t)
    i7, i30, i60, i365 = (h.upto(t - d) for d in (7, 30, 60, 365))
    w30, prev30, w365 = _window(h, i30, end), _window(h, i60, i30), _window(h, i365, end)
    out[:] = 0.0
    out[INDEX["events_7d"]] = end - i7
    out[INDEX["events_30d"]] = w30[_N]
    out[INDEX["events_365d"]] = w365[_N]
    out[INDEX["events_trend_30d"]] = w30[_N] - prev30[_N]
    out[INDEX["days_since_last"]] = min(t - h.day[end - 1], NEVER) if end else NEVER
    out[INDEX["history_days"]] = min(t - h.day[0], NEVER) if end else 0
    if end:
        out[INDEX["last_hostility"]] = h.hostility[end - 1]
        out[INDEX["last_rung"]] = h.rung[end - 1]
    if end > i365:
        out[INDEX["max_hostility_365d"]] = h.hostility[i365:end].max()
    max30 = h.hostility[i30:end].max() if end > i30 else 0.0
    out[INDEX["max_hostility_30d"]] = max30
    out[INDEX["max_rung_30d"]] = h.rung[i30:end].max() if end > i30 else 0.0
    out[INDEX["hostility_trend_30d"]] = max30 - (h.hostility[i60:i30].max() if i30 > i60 else 0.0)
    out[INDEX["use_of_force_30d"]] = w30[_UOF]
    out[INDEX["log_fatalities_30d"]] = np.log1p(w30[_FAT])
    out[INDEX["log_fatalities_365d"]] = np.log1p(w365[_FAT])
    out[INDEX["log_fatalities_7d"]] = np.log1p(_window(h, i7, end)[_FAT])
    out[INDEX["log_civilian_fatalities_30d"]] = np.log1p(w30[_CIV])
    out[INDEX["fatal_events_30d"]] = w30[_FATAL]
    out[INDEX["fatality_trend_30d"]] = np.log1p(w30[_FAT]) - np.log1p(prev30[_FAT])
    out[INDEX["responses_30d"]] = w30[_RESP]
    out[INDEX["response_lag_days"]] = RESPONSE_WINDOW + 1  # "no response" sorts after the slowest one
    if end > i30:
        out[INDEX["tit_for_tat_chain_30d"]] = h.chain[i30:end].max()
        lags = h.lag[i30:end][~np.isnan(h.lag[i30:end])]
        if lags.size:
            out[INDEX["response_lag_days"]] = lags[-1]
        # did the target strike back: both sides initiated within 30 days (any order, any lag), or a flagged retaliation
        both_sides = len({m for m in h.initiator[i30:end] if m is not None}) >= 2
        out[INDEX["reciprocated_30d"]] = float(both_sides or w30[_FLAGGED] > 0)
    if context.kind in DYAD_KINDS:
        out[INDEX[f"kind_{context.kind}"]] = 1.0
    out[INDEX["cross_border_30d"]] = w30[_CROSS]
    out[INDEX["standoff_30d"]] = w30[_STANDOFF]
    out[INDEX["deescalation_30d"]] = w30[_DEESC]
    calm, force = _last(h.deesc_days, t), _last(h.force_days, t)
    out[INDEX["deescalated_since_fighting"]] = float(
        calm is not None and force is not None and t - calm <= CALM_WINDOW and calm >= force
        and t - force <= FIGHTING_WINDOW
    )
    out[INDEX["major_power"]] = float(context.major_power)
    out[INDEX["contiguous"]] = float(context.contiguous)
    out[INDEX["rivalry"]] = float(context.rivalry)
    out[INDEX["past_armed_conflict"]] = float(context.past_armed_conflict)


def build_features(facts: Sequence[EventFact], as_of: date, context: DyadContext) -> np.ndarray:
    """Feature vector of one dyad as of a date (facts after `as_of` are ignored)."""
    out = np.empty(len(FEATURE_NAMES))
    features_into(out, History(facts), as_of, context)
    return out


def build_matrix(items: Sequence[tuple[Sequence[EventFact], date, DyadContext]]) -> np.ndarray:
    """Feature rows for many (facts, as_of, context); a history object is reused for a repeated facts list."""
    out = np.empty((len(items), len(FEATURE_NAMES)))
    cache: dict[int, tuple[Sequence[EventFact], History]] = {}
    for row, (facts, as_of, context) in enumerate(items):
        hit = cache.get(id(facts))
        if hit is None or hit[0] is not facts:
            hit = cache[id(facts)] = (facts, History(facts))
        features_into(out[row], hit[1], as_of, context)
    return out
