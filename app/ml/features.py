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
sum, maxima from one `reduceat`. A feature is one line in `_fill` (`out[:, INDEX[name]] = ...`
over the `Batch`'s per-row arrays); a new per-event quantity is a `FactColumns` column, set in
`events.dyads.make_fact` / `make_columns`. `tests/ml/reference.py` keeps the per-event
implementation this must equal.
"""

from collections.abc import Sequence
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
    *(f"decayed_deaths_{h}d" for h in DECAY_HALF_LIVES),
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


def _fill(out: np.ndarray, b: Batch) -> None:
    """The features of every row of `b` (`out` starts at zero)."""
    f, t, end, start = b.facts, b.t, b.end, b.start
    i7, i30, i60, i365 = (b.upto(d) for d in (7, 30, 60, 365))
    w30, prev30, w365 = b.window(i30, end), b.window(i60, i30), b.window(i365, end)
    known, recent = end > start, end > i30
    out[:, INDEX["events_7d"]] = end - i7
    out[:, INDEX["events_30d"]] = w30[:, _N]
    out[:, INDEX["events_365d"]] = w365[:, _N]
    out[:, INDEX["events_trend_30d"]] = w30[:, _N] - prev30[:, _N]
    out[:, INDEX["days_since_last"]] = np.where(known, np.minimum(t - f.day[end - 1], NEVER), NEVER)
    out[:, INDEX["history_days"]] = np.where(known, np.minimum(t - f.day[start], NEVER), 0)
    out[:, INDEX["last_hostility"]] = np.where(known, f.hostility[end - 1], 0)
    out[:, INDEX["last_rung"]] = np.where(known, f.rung[end - 1], 0)
    out[:, INDEX["max_hostility_365d"]] = b.max(f.hostility, i365, end)
    max30 = b.max(f.hostility, i30, end)
    out[:, INDEX["max_hostility_30d"]] = max30
    out[:, INDEX["max_rung_30d"]] = b.max(f.rung, i30, end)
    out[:, INDEX["hostility_trend_30d"]] = max30 - b.max(f.hostility, i60, i30)
    out[:, INDEX["use_of_force_30d"]] = w30[:, _UOF]
    out[:, INDEX["log_fatalities_30d"]] = np.log1p(w30[:, _FAT])
    out[:, INDEX["log_fatalities_365d"]] = np.log1p(w365[:, _FAT])
    out[:, INDEX["log_fatalities_7d"]] = np.log1p(b.window(i7, end)[:, _FAT])
    decayed = b.decayed(f.fatalities, i365, end, DECAY_HALF_LIVES)
    for j, h in enumerate(DECAY_HALF_LIVES):
        out[:, INDEX[f"decayed_deaths_{h}d"]] = decayed[:, j]
    out[:, INDEX["log_civilian_fatalities_30d"]] = np.log1p(w30[:, _CIV])
    out[:, INDEX["fatal_events_30d"]] = w30[:, _FATAL]
    out[:, INDEX["fatality_trend_30d"]] = np.log1p(w30[:, _FAT]) - np.log1p(prev30[:, _FAT])
    out[:, INDEX["responses_30d"]] = w30[:, _RESP]
    out[:, INDEX["tit_for_tat_chain_30d"]] = b.max(b.chain, i30, end)
    lagged = b.last(~np.isnan(b.lag))[end - 1]  # the last response's lag; "no response" sorts after the slowest
    out[:, INDEX["response_lag_days"]] = np.where(recent & (lagged >= i30), b.lag[lagged], RESPONSE_WINDOW + 1)
    # did the target strike back: both sides initiated within 30 days (any order, any lag), or a flagged retaliation
    out[:, INDEX["reciprocated_30d"]] = recent & (_two_initiators(b, i30, end) | (w30[:, _FLAGGED] > 0))
    out[:, INDEX["cross_border_30d"]] = w30[:, _CROSS]
    out[:, INDEX["standoff_30d"]] = w30[:, _STANDOFF]
    out[:, INDEX["deescalation_30d"]] = w30[:, _DEESC]
    calm, force = b.last(f.deescalation)[end - 1], b.last(f.hostility >= 4)[end - 1]
    out[:, INDEX["deescalated_since_fighting"]] = (
        (calm >= start) & (force >= start) & (t - f.day[calm] <= CALM_WINDOW) & (f.day[calm] >= f.day[force])
        & (t - f.day[force] <= FIGHTING_WINDOW))
    contexts = b.contexts
    for kind in DYAD_KINDS:
        out[:, INDEX[f"kind_{kind}"]] = [c.kind == kind for c in contexts]
    out[:, INDEX["major_power"]] = [c.major_power for c in contexts]
    out[:, INDEX["contiguous"]] = [c.contiguous for c in contexts]
    out[:, INDEX["rivalry"]] = [c.rivalry for c in contexts]
    out[:, INDEX["past_armed_conflict"]] = [c.past_armed_conflict for c in contexts]


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
