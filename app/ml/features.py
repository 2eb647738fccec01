"""The one feature builder: a dyad's event history as of a date -> a fixed-length vector.

Only facts with `occurred_on <= as_of` are used. Training and serving both call `build_matrix`.
The explicit `retaliation` flag and inferred responses (the last target strikes back at the last
initiator within 30 days) feed the same reciprocity features, because the training data (MIE,
ICB, GED) carry no flag: direction is what the model learns reciprocity from. Only militarized
acts (threat or worse, not a de-escalation) count as strikes. `deescalated_since_fighting` is
set when talks, an agreement, a ceasefire or a withdrawal within the last 90 days came on or
after the dyad's last use of force, and that use of force was within the last year.

Vectorised over a whole batch: the histories of all rows are laid end to end as `FactColumns`,
each row's windows are index ranges found by one `searchsorted`, sums come from one running
sum, maxima from one `reduceat`. A feature is one entry of FEATURES: its name, theme, shape, the event
fields it reads, its unit and its column as one expression over the batch's `Windows`. A new per-event
quantity is a `FactColumns` column, set in `events.dyads.make_fact` / `make_columns`.
`tests/ml/reference.py` keeps the per-event implementation this must equal, for every feature.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from app.events.facts import DAY_BITS, DYAD_KINDS, DyadContext, EventFact, FactColumns

RESPONSE_WINDOW = 30  # days within which a strike back counts as a response
CALM_WINDOW = 90  # a de-escalation this recent, after the last use of force, counts as calming
FIGHTING_WINDOW = 365  # ... provided that use of force was within this many days
NEVER = 3650  # days since the last event for a dyad with none (beyond the 730-day decay samples)
# The farthest back a feature looks from its date: year-long windows, plus two response windows so
# that the strikes answered inside the year are linked. Serving reads this much history (and the
# dyad's first event, for history_days); a tit-for-tat chain is counted from the window's start.
LOOKBACK_DAYS = 365 + 2 * RESPONSE_WINDOW
# Half-lives (days) of the exponentially decayed deaths over the past year: a smooth memory of casualties
# that the fixed 7/30/365-day windows cut into steps. The decayed_deaths baseline's half-life, chosen on
# validation, is 7 days on MIE, 30 on GED global and 14 on the GED slices.
DECAY_HALF_LIVES = (7, 30, 90)
_PAIRS_PER_CHUNK = 2_000_000  # (row, fact) pairs summed at once by Batch.decayed

THEME_NAMES = ("retaliation", "casualties", "tempo", "severity", "deescalation", "contagion",
               "structural")  # drivers, in this order
SMOOTH_TERM, FLAG_TERM = "smooth", "flag"


@dataclass(frozen=True)
class Feature:
    """One model input, declared once. The scorer's columns, the drivers' themes, the model's smooth and flag
    terms, the card's inputs tables and the reference test's list are all read from FEATURES."""

    name: str
    theme: str  # the driver it is explained under (one of THEME_NAMES)
    shape: str  # SMOOTH_TERM: a spline of its value; FLAG_TERM: 0 or 1, one coefficient
    reads: tuple[str, ...]  # the event fields (or the context table) it is computed from, besides the dates
    unit: str  # what its value is, in plain words
    value: Callable[["Windows"], np.ndarray | list]  # its column over a batch, from the batch's windows

    def __post_init__(self) -> None:
        if self.theme not in THEME_NAMES or self.shape not in (SMOOTH_TERM, FLAG_TERM) or not self.reads:
            raise ValueError(f"feature {self.name}: a theme of {THEME_NAMES}, a term, and what it reads")


def _kind(kind: str) -> Feature:
    return Feature(f"kind_{kind}", "structural", FLAG_TERM, ("actor kind",), f"1 if the dyad is {kind.replace('_', '-')}",
                   lambda w: [c.kind == kind for c in w.contexts])


def _decayed(j: int, h: int) -> Feature:
    return Feature(f"decayed_deaths_{h}d", "casualties", SMOOTH_TERM, ("fatalities",),
                   f"deaths over the past year, each weighing half as much every {h} days",
                   lambda w: w.decayed[:, j])


FEATURES: tuple[Feature, ...] = (
    Feature("events_7d", "tempo", SMOOTH_TERM, ("occurred_on",), "events in the last 7 days", lambda w: w.end - w.i7),
    Feature("events_30d", "tempo", SMOOTH_TERM, ("occurred_on",), "events in the last 30 days", lambda w: w.w30[:, _N]),
    Feature("events_365d", "tempo", SMOOTH_TERM, ("occurred_on",), "events in the last year", lambda w: w.w365[:, _N]),
    Feature("days_since_last", "tempo", SMOOTH_TERM, ("occurred_on",), f"days since the last event ({NEVER} if none)",
            lambda w: np.where(w.known, np.minimum(w.t - w.f.day[w.end - 1], NEVER), NEVER)),
    Feature("events_trend_30d", "tempo", SMOOTH_TERM, ("occurred_on",), "events in the last 30 days minus the 30 before",
            lambda w: w.w30[:, _N] - w.prev30[:, _N]),
    Feature("history_days", "tempo", SMOOTH_TERM, ("occurred_on",), f"days since the first event (at most {NEVER})",
            lambda w: np.where(w.known, np.minimum(w.t - w.f.day[w.start], NEVER), 0)),
    Feature("max_hostility_30d", "severity", SMOOTH_TERM, ("action",), "highest hostility level (1-5) in 30 days",
            lambda w: w.max30),
    Feature("max_hostility_365d", "severity", SMOOTH_TERM, ("action",), "highest hostility level (1-5) in a year",
            lambda w: w.b.max(w.f.hostility, w.i365, w.end)),
    Feature("last_hostility", "severity", SMOOTH_TERM, ("action",), "hostility level (1-5) of the last event",
            lambda w: np.where(w.known, w.f.hostility[w.end - 1], 0)),
    Feature("max_rung_30d", "severity", SMOOTH_TERM, ("action",), "highest escalation rung (0-10) in 30 days",
            lambda w: w.b.max(w.f.rung, w.i30, w.end)),
    Feature("last_rung", "severity", SMOOTH_TERM, ("action",), "escalation rung (0-10) of the last event",
            lambda w: np.where(w.known, w.f.rung[w.end - 1], 0)),
    Feature("hostility_trend_30d", "severity", SMOOTH_TERM, ("action",),
            "highest hostility in the last 30 days minus the 30 before",
            lambda w: w.max30 - w.b.max(w.f.hostility, w.i60, w.i30)),
    Feature("use_of_force_30d", "severity", SMOOTH_TERM, ("action",), "uses of force (hostility 4 or 5) in 30 days",
            lambda w: w.w30[:, _UOF]),
    Feature("log_fatalities_30d", "casualties", SMOOTH_TERM, ("fatalities",), "log(1 + deaths in 30 days)",
            lambda w: np.log1p(w.w30[:, _FAT])),
    Feature("log_fatalities_365d", "casualties", SMOOTH_TERM, ("fatalities",), "log(1 + deaths in a year)",
            lambda w: np.log1p(w.w365[:, _FAT])),
    Feature("log_civilian_fatalities_30d", "casualties", SMOOTH_TERM, ("civilian_fatalities",),
            "log(1 + civilian deaths in 30 days)", lambda w: np.log1p(w.w30[:, _CIV])),
    Feature("fatal_events_30d", "casualties", SMOOTH_TERM, ("fatalities",), "events with deaths in 30 days",
            lambda w: w.w30[:, _FATAL]),
    Feature("fatality_trend_30d", "casualties", SMOOTH_TERM, ("fatalities",),
            "log(1 + deaths in the last 30 days) minus the same for the 30 before",
            lambda w: np.log1p(w.w30[:, _FAT]) - np.log1p(w.prev30[:, _FAT])),
    Feature("log_fatalities_7d", "casualties", SMOOTH_TERM, ("fatalities",), "log(1 + deaths in 7 days)",
            lambda w: np.log1p(w.b.window(w.i7, w.end)[:, _FAT])),
    *(_decayed(j, h) for j, h in enumerate(DECAY_HALF_LIVES)),
    Feature("log_max_event_deaths_365d", "casualties", SMOOTH_TERM, ("fatalities",),
            "log(1 + deaths in the deadliest single event of the last year)",
            lambda w: np.log1p(w.b.max(w.f.fatalities, w.i365, w.end))),
    Feature("log_deaths_per_fatal_event_365d", "casualties", SMOOTH_TERM, ("fatalities",),
            "log(1 + deaths per event with deaths in the last year)",
            lambda w: np.log1p(w.w365[:, _FAT] / np.maximum(w.w365[:, _FATAL], 1))),
    Feature("responses_30d", "retaliation", SMOOTH_TERM, ("actors", "retaliation"),
            f"strikes answering one the other way within {RESPONSE_WINDOW} days, or flagged as retaliation, "
            "in 30 days", lambda w: w.w30[:, _RESP]),
    Feature("reciprocated_30d", "retaliation", FLAG_TERM, ("actors", "retaliation"),
            "1 if both sides struck within 30 days, or a strike was flagged as retaliation",
            lambda w: w.recent & (_two_initiators(w.b, w.i30, w.end) | (w.w30[:, _FLAGGED] > 0))),
    Feature("tit_for_tat_chain_30d", "retaliation", SMOOTH_TERM, ("actors", "retaliation"),
            "longest chain of strikes each answering the last, in 30 days", lambda w: w.b.max(w.b.chain, w.i30, w.end)),
    Feature("response_lag_days", "retaliation", SMOOTH_TERM, ("actors",),
            f"days the last response in 30 days took ({RESPONSE_WINDOW + 1} if none)", lambda w: w.response_lag),
    *(_kind(k) for k in DYAD_KINDS),
    Feature("cross_border_30d", "severity", SMOOTH_TERM, ("location.country",),
            "events in 30 days where a state acted outside its own territory", lambda w: w.w30[:, _CROSS]),
    Feature("standoff_30d", "severity", SMOOTH_TERM, ("weapons",),
            "events in 30 days with a standoff weapon (drone, missile, artillery, airstrike...)",
            lambda w: w.w30[:, _STANDOFF]),
    Feature("deescalation_30d", "deescalation", SMOOTH_TERM, ("action",),
            "talks, agreements, ceasefires and withdrawals in 30 days", lambda w: w.w30[:, _DEESC]),
    Feature("deescalated_since_fighting", "deescalation", FLAG_TERM, ("action",),
            f"1 if a de-escalation in the last {CALM_WINDOW} days came on or after the last use of force, "
            f"itself within {FIGHTING_WINDOW} days", lambda w: w.calmed),
    Feature("other_fronts_30d", "contagion", SMOOTH_TERM, ("other dyads' events",),
            "the members' other dyads with a use of force or a fatal event in the last 30 days (civilians open no front)",
            lambda w: [c.fronts.count for c in w.contexts]),
    Feature("log_other_front_deaths_30d", "contagion", SMOOTH_TERM, ("other dyads' events",),
            "log(1 + deaths in the last 30 days on those other fronts)",
            lambda w: np.log1p([c.fronts.deaths for c in w.contexts])),
    Feature("major_power", "structural", FLAG_TERM, ("context",), "1 if a member is a major power (COW)",
            lambda w: [c.major_power for c in w.contexts]),
    Feature("contiguous", "structural", FLAG_TERM, ("context",), "1 if the two states border (COW contiguity)",
            lambda w: [c.contiguous for c in w.contexts]),
    Feature("rivalry", "structural", FLAG_TERM, ("context",), "1 if the two states are strategic rivals",
            lambda w: [c.rivalry for c in w.contexts]),
    Feature("past_armed_conflict", "structural", FLAG_TERM, ("context",),
            "1 if the pair had an armed conflict before (UCDP/PRIO)", lambda w: [c.past_armed_conflict for c in w.contexts]),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
assert len(set(FEATURE_NAMES)) == len(FEATURES), "feature names are unique"
INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}


History = FactColumns.of  # one dyad's facts as sorted arrays (training and labels read .day, .fatalities, ...)
Facts = Sequence[EventFact] | FactColumns


def _concat(histories: list[FactColumns]) -> tuple[FactColumns, np.ndarray]:
    """The histories end to end, one padding fact at the end (so index -1 and `hi == n` are safe),
    member codes made distinct between histories that do not share a `members` tuple; and where each starts."""
    offsets: dict[int, int] = {}
    members: list[str] = []
    for h in histories:
        if id(h.members) not in offsets:
            offsets[id(h.members)] = len(members)
            members.extend(h.members)
    shift = [offsets[id(h.members)] for h in histories]
    cols = {}
    for name in FactColumns.ARRAYS:
        parts = [getattr(h, name) for h in histories]
        if name in ("initiator", "target"):
            parts = [np.where(p >= 0, p + k, -1) if k else p for p, k in zip(parts, shift)]
        cols[name] = np.concatenate([*parts, np.zeros(1, dtype=parts[0].dtype if parts else np.int64)])
    cols["target"][-1] = -1
    starts = np.zeros(len(histories) + 1, dtype=np.int64)
    np.cumsum([len(h) for h in histories], out=starts[1:])
    return FactColumns(tuple(members), **cols), starts


class Batch:
    """Rows (facts, as_of, context) prepared for the features and the drivers: all histories end to end
    (`facts`, with per-fact reciprocity), and per row its history's first fact and its window bounds."""

    def __init__(self, items: Sequence[tuple[Facts, date, DyadContext]]):
        histories: list[Facts] = []
        index: dict[int, int] = {}  # a facts object repeated over rows (many dates of one dyad) is laid once
        row_history = np.empty(len(items), dtype=np.int64)
        for row, (facts, _, _) in enumerate(items):
            k = index.get(id(facts))
            if k is None:
                k = index[id(facts)] = len(histories)
                histories.append(facts)
            row_history[row] = k
        lists = [k for k, h in enumerate(histories) if not isinstance(h, FactColumns)]
        if lists:
            for k, columns in zip(lists, FactColumns.of_many([histories[k] for k in lists])):  # one pass for all
                histories[k] = columns
        self.contexts = [context for _, _, context in items]
        self.t = np.array([as_of.toordinal() for _, as_of, _ in items], dtype=np.int64)
        self.facts, starts = _concat(histories)
        f, n = self.facts, len(self.facts) - 1  # n real facts, then the padding one
        history = np.repeat(np.arange(len(histories), dtype=np.int64), np.diff(starts))  # per fact
        self._key = history << DAY_BITS | f.day[:n]  # a fact's sort key
        self._row_key = row_history << DAY_BITS
        self.start = starts[row_history]  # the row's history's first fact
        self._upto: dict[int, np.ndarray] = {}
        self.end = self.upto(0)  # facts on or before as_of: start..end
        self.resp, self.lag, self.chain = _reciprocity(f, history, n)
        self.militarized = _militarized(f)
        cols = [np.ones(n + 1), f.fatalities, f.civilian_fatalities, f.fatalities > 0, f.hostility >= 4, self.resp,
                f.cross_border, f.standoff, f.deescalation, f.retaliation]
        self.cum = np.zeros((n + 1, len(cols)), order="F")  # cum[i] = sums over facts before i; a column at a time
        for j, c in enumerate(cols):
            np.cumsum(c[:n], dtype=np.float64, out=self.cum[1:, j])

    def upto(self, days_back: int) -> np.ndarray:
        """Per row: the index after its facts on or before `days_back` days before as_of (kept: the features
        and the drivers ask for the same ones)."""
        found = self._upto.get(days_back)
        if found is None:
            found = self._upto[days_back] = np.searchsorted(
                self._key, self._row_key | np.maximum(self.t - days_back, 0), side="right")
        return found

    def deaths(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Per row: the fatalities over facts lo..hi, as integers."""
        return (self.cum[hi, _FAT] - self.cum[lo, _FAT]).astype(np.int64)

    def window(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Per row: sums of the `cum` columns over facts lo..hi."""
        return self.cum[hi] - self.cum[lo]

    def max(self, values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Per row: the largest value over facts lo..hi, 0 when there are none."""
        bounds = np.empty(2 * len(lo), dtype=np.int64)  # reduceat over lo..hi, then over hi..next lo (unused)
        bounds[::2], bounds[1::2] = lo, hi
        return np.where(hi > lo, np.maximum.reduceat(values, bounds)[::2], 0.0)  # lo == hi gives values[lo]

    def decayed(self, values: np.ndarray, lo: np.ndarray, hi: np.ndarray, half_lives: Sequence[int]) -> np.ndarray:
        """Per row and half-life h: sum over facts lo..hi of value * 2**(-(as_of - day) / h), summed over (row, fact)
        pairs a chunk of rows at a time."""
        out = np.zeros((len(lo), len(half_lives)))
        counts = hi - lo
        ends = np.cumsum(counts)
        first = 0
        while first < len(lo):
            last = int(np.searchsorted(ends, (ends[first - 1] if first else 0) + _PAIRS_PER_CHUNK, side="right"))
            last = max(last, first + 1)
            c = counts[first:last]
            rows = np.repeat(np.arange(last - first), c)
            facts = np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c) + np.repeat(lo[first:last], c)
            age = (self.t[first:last][rows] - self.facts.day[facts]).astype(np.float64)
            v = values[facts]
            for j, h in enumerate(half_lives):
                out[first:last, j] = np.bincount(rows, v * np.exp2(-age / h), minlength=last - first)
            first = last
        return out

    def last(self, mask: np.ndarray) -> np.ndarray:
        """Per fact: the index of the last fact on or before it where `mask` holds, -1 if none (padding: -1)."""
        idx = np.where(mask, np.arange(len(mask)), -1)
        idx[-1] = -1
        np.maximum.accumulate(idx[:-1], out=idx[:-1])
        return idx

    def matrix(self) -> np.ndarray:
        out = np.zeros((len(self.t), len(FEATURE_NAMES)))
        _fill(out, self)
        return out


# Column order of Batch.cum.
_N, _FAT, _CIV, _FATAL, _UOF, _RESP, _CROSS, _STANDOFF, _DEESC, _FLAGGED = range(10)


def _militarized(f: FactColumns) -> np.ndarray:
    """A directed hostile act (threat or worse): talks, agreements and non-militarized acts are no strike."""
    return f.directed & (f.hostility >= 2) & ~f.deescalation


_STAMP_LIMIT = 2**62  # (key, position) stamps stay below this in int64; larger keys are ranked first


def _reciprocity(f: FactColumns, history: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per fact (and the padding one): is it a response (flagged or inferred), its lag in days, and its
    tit-for-tat chain length.

    A strike answers the latest earlier strike the other way in its history, if that came within
    RESPONSE_WINDOW days (an earlier one would be older still); its chain is that strike's plus one.
    A strike that answers none has a chain of 1, or 2 when flagged as retaliation (it answers
    something outside this dyad's recorded history).
    """
    strike = _militarized(f)[:n]
    aimed = strike & (f.target[:n] >= 0)
    width = int(max(f.initiator.max(initial=0), f.target.max(initial=0))) + 2
    pair = (history * width + f.initiator[:n] + 1) * width + f.target[:n] + 1  # (history, by, at)
    reverse = (history * width + f.target[:n] + 1) * width + f.initiator[:n] + 1
    if n and (int(max(pair.max(), reverse.max())) + 1) * (n + 1) >= _STAMP_LIMIT:  # stamps below would overflow:
        _, inverse = np.unique(np.concatenate([pair, reverse]), return_inverse=True)  # ranks keep the order
        pair, reverse = inverse[:n], inverse[n:]
    # the strikes by key, then position: the latest strike with key k before fact i sorts just before (k, i)
    strikes = np.flatnonzero(strike)
    stamps = np.sort(pair[strikes] * (n + 1) + strikes)
    asked = np.flatnonzero(aimed)
    found = np.searchsorted(stamps, reverse[asked] * (n + 1) + asked) - 1
    hit = found >= 0
    found = np.where(hit, stamps[np.maximum(found, 0)], 0)
    hit &= found // (n + 1) == reverse[asked]
    j = found % (n + 1)
    hit &= f.day[asked] - f.day[j] <= RESPONSE_WINDOW
    answered, answers = asked[hit], j[hit]

    resp = np.zeros(n + 1)
    resp[:n] = f.retaliation[:n]
    resp[answered] = 1.0
    lag = np.full(n + 1, np.nan)
    lag[answered] = f.day[answered] - f.day[answers]
    # chains by pointer jumping: each fact points at the strike it answers, the first strike at itself
    pointer, depth = np.arange(n), np.zeros(n, dtype=np.int64)
    pointer[answered], depth[answered] = answers, 1
    while True:
        further = pointer[pointer]
        if (further == pointer).all():
            break
        depth += depth[pointer]
        pointer = further
    base = np.where(aimed, np.where(f.retaliation[:n], 2, 1), 0)
    chain = np.zeros(n + 1)
    chain[:n] = np.where(aimed, base[pointer] + depth, 0)
    return resp, lag, chain


class Windows:
    """What the features of a batch share, computed once: each row's window bounds and the sums over them."""

    def __init__(self, b: Batch):
        self.b, self.f, self.t, self.end, self.start, self.contexts = b, b.facts, b.t, b.end, b.start, b.contexts
        self.i7, self.i30, self.i60, self.i365 = (b.upto(d) for d in (7, 30, 60, 365))
        self.w30, self.prev30, self.w365 = b.window(self.i30, self.end), b.window(self.i60, self.i30), b.window(
            self.i365, self.end)
        self.known, self.recent = self.end > self.start, self.end > self.i30
        self.max30 = b.max(self.f.hostility, self.i30, self.end)
        self.decayed = b.decayed(self.f.fatalities, self.i365, self.end, DECAY_HALF_LIVES)
        lagged = b.last(~np.isnan(b.lag))[self.end - 1]  # the last response's lag; "no response" sorts after the slowest
        self.response_lag = np.where(self.recent & (lagged >= self.i30), b.lag[lagged], RESPONSE_WINDOW + 1)
        calm, force = b.last(self.f.deescalation)[self.end - 1], b.last(self.f.hostility >= 4)[self.end - 1]
        day = self.f.day
        self.calmed = ((calm >= self.start) & (force >= self.start) & (self.t - day[calm] <= CALM_WINDOW)
                       & (day[calm] >= day[force]) & (self.t - day[force] <= FIGHTING_WINDOW))


def _fill(out: np.ndarray, b: Batch) -> None:
    """The features of every row of `b`, a column per registry entry."""
    w = Windows(b)
    for j, feature in enumerate(FEATURES):
        out[:, j] = feature.value(w)


def _two_initiators(b: Batch, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per row: did at least two different members strike within facts lo..hi."""
    f, n = b.facts, len(b.facts) - 1
    strikes = np.flatnonzero(b.militarized[:n])
    by = f.initiator[strikes]
    # per strike, the next strike by someone else (n: none); per position, the first strike from there
    change = np.flatnonzero(by[1:] != by[:-1]) + 1
    after = np.searchsorted(change, np.arange(len(strikes)), side="right")
    other = np.full(n + 1, n)
    other[strikes] = np.append(strikes, n)[np.append(change, len(strikes))[after]]
    first = np.full(n + 2, n)
    first[strikes] = strikes
    first = np.minimum.accumulate(first[::-1])[::-1]
    k = first[lo]
    return (k < hi) & (other[k] < hi)


def build_features(facts: Facts, as_of: date, context: DyadContext) -> np.ndarray:
    """Feature vector of one dyad as of a date (facts after `as_of` are ignored)."""
    return build_matrix([(facts, as_of, context)])[0]


def build_matrix(items: Sequence[tuple[Facts, date, DyadContext]]) -> np.ndarray:
    """Feature rows for many (facts, as_of, context), in one vectorised pass."""
    return Batch(items).matrix()
