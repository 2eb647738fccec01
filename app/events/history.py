"""A dyad's stored history as the model sees it: rows through the same rules (`make_columns`) that training uses.

Only a bounded window is read: the events within `lookback_days` of the dyad's last event (on or
before a date), plus its first event. That is everything the features look at (windows of at
most a year, the last event, the history's length), so the rows one assessment reads do not grow
with the dyad's history. Both reads are range scans of the (dyad_id, occurred_on) index.

The rows of all the dyads asked for come back as plain tuples from one statement, in order, and
become one `FactColumns` (column arrays, no object per event); each dyad's window is a slice of it.
"""

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from sqlalchemy import event
from sqlalchemy.orm import Session

from app import errors
from app.events import dyads as dyad_rules
from app.events.facts import DAY_BITS, FactColumns
from app.storage import windows as storage_windows

NONE = FactColumns.of([])
NO_IDS = np.zeros(0, dtype=np.int64)


@dataclass
class Window:
    """A dyad's facts as of a date: the look-back window up to its last event, and its first event."""

    last_on: date | None = None  # the last live event on or before the date asked for
    facts: FactColumns = field(default=NONE)  # oldest first, (day, event id) order
    in_window: int = 0  # events within the look-back window (what `event_count` reports)
    event_ids: np.ndarray = field(default_factory=lambda: NO_IDS)  # each fact's event (the window cache updates by it)


READ_CHUNK = 10_000  # window rows turned into arrays at a time


def _columns(rows) -> tuple[np.ndarray, np.ndarray, FactColumns]:
    """One chunk of window rows as (which window, event ids, facts)."""
    (which, initiators, targets, days, actions, weapons, fatalities, civilian, retaliation, actor1, where,
     ids) = zip(*rows)
    return np.array(which, dtype=np.int64), np.array(ids, dtype=np.int64), dyad_rules.make_columns(
        initiators, targets, days=days, actions=actions, weapons_json=weapons, fatalities=fatalities,
        civilian_fatalities=civilian, retaliation=retaliation, actor1_country=actor1, location_country=where)


def windows(session: Session, dyad_ids: Sequence[str], lookback_days: int,
            until: date | None = None) -> dict[str, Window]:
    """Each dyad's bounded live history as of `until` (default: all stored events)."""
    out = {d: Window() for d in dyad_ids}
    heads = {d: (last, first) for d, (last, first) in storage_windows.heads(session, dyad_ids, until).items() if last is not None}
    out.update(_read(session, [(d, last - timedelta(days=lookback_days), last, first)
                               for d, (last, first) in heads.items()]))
    for dyad_id, (last, _) in heads.items():
        out[dyad_id].last_on = last
    return out


def span(session: Session, dyad_id: str, start: date, end: date, lookback_days: int) -> Window:
    """What the windows of every date from `start` to `end` read, in one read: the live events from the
    look-back of the last one on or before `start` up to `end`, and the dyad's first event. `as_of_each`
    cuts each date's window out of it."""
    return spans(session, [dyad_id], start, end, lookback_days)[dyad_id]


def spans(session: Session, dyad_ids: Sequence[str], start: date, end: date, lookback_days: int) -> dict[str, Window]:
    """`span` of many dyads in one read (an unknown dyad: an empty Window)."""
    heads = storage_windows.heads(session, dyad_ids, start)
    spec = []
    for dyad_id in dyad_ids:
        last, first = heads.get(dyad_id, (None, None))  # (None, None): no event by `start`, or no such dyad yet
        spec.append((dyad_id, (last or start) - timedelta(days=lookback_days), end, first))
    return {d: Window() for d in dyad_ids} | _read(session, spec)


def as_of_each(history: FactColumns, event_ids: np.ndarray, dates: Sequence[date], lookback_days: int) -> list[Window]:
    """Per date, the window `windows(..., until=date)` reads, cut from a longer history that holds it (`span`'s,
    or that plus hypothetical events): the facts within `lookback_days` of the last one on or before the
    date, after the history's first fact. Dates whose windows are the same share one `FactColumns`, so a
    batch lays it once."""
    out, shared = [], {}
    for lo, hi in _bounds(history, dates, lookback_days):
        if hi == 0:
            out.append(Window())
            continue
        window = shared.get((lo, hi))
        if window is None:
            rows = np.arange(lo, hi) if lo == 0 else np.concatenate([[0], np.arange(lo, hi)])
            window = shared[lo, hi] = Window(date.fromordinal(int(history.day[hi - 1])), history.take(rows), hi - lo,
                                             event_ids[rows])
        out.append(window)
    return out


def in_batches(history: FactColumns, event_ids: np.ndarray, dates: Sequence[date], lookback_days: int,
               max_facts: int) -> Iterator[tuple[list[date], list[Window]]]:
    """`as_of_each` a run of dates at a time, each run's distinct windows holding about `max_facts` facts at most
    (at least one date a run): a long series of a dense dyad is scored in parts, never laid out whole."""
    run, held, seen = [], 0, set()
    for day, (lo, hi) in zip(dates, _bounds(history, dates, lookback_days)):
        size = 0 if (lo, hi) in seen or hi == 0 else hi - lo + 1
        if run and held + size > max_facts:
            yield run, as_of_each(history, event_ids, run, lookback_days)
            run, held, seen = [], 0, set()
            size = 0 if hi == 0 else hi - lo + 1
        run.append(day)
        held += size
        seen.add((lo, hi))
    if run:
        yield run, as_of_each(history, event_ids, run, lookback_days)


def _bounds(history: FactColumns, dates: Sequence[date], lookback_days: int) -> list[tuple[int, int]]:
    """Per date: the window's facts lo..hi (hi 0: none by then); the history's first fact goes before them."""
    day = history.day
    if not len(day):
        return [(0, 0)] * len(dates)
    his = np.searchsorted(day, [d.toordinal() for d in dates], side="right")
    los = np.searchsorted(day, np.where(his > 0, day[np.maximum(his - 1, 0)] - lookback_days, 0), side="left")
    return list(zip(los.tolist(), his.tolist()))


def _read(session: Session, spec: Sequence[tuple[str, date, date, int | None]]) -> dict[str, Window]:
    """Per (dyad, lo, hi, first event id): its live events dated lo..hi, and its first event where that lies
    before lo, by day then event id. `last_on` is left to the caller."""
    if not spec:
        return {}
    # Turned into Python rows 10,000 at a time, each chunk into arrays before the next (the driver still
    # holds the whole result in C): a dense batch reads ~100,000 rows, and as Python tuples all at once
    # they set the worker's memory high-water mark.
    chunks = [_columns(rows) for rows in storage_windows.window_rows(session, spec, READ_CHUNK)]
    if not chunks:
        return {}
    which, ids = np.concatenate([w for w, _, _ in chunks]), np.concatenate([i for _, i, _ in chunks])
    facts = FactColumns.concat([c for _, _, c in chunks])
    order = np.lexsort((ids, facts.day, which))  # by window, then day, then event id
    facts, which, ids = facts.take(order), which[order], ids[order]
    bounds = np.searchsorted(which, np.arange(len(spec) + 1)).tolist()
    lo = np.array([lo.toordinal() for _, lo, _, _ in spec], dtype=np.int64)
    in_window = np.bincount(which, weights=facts.day >= lo[which], minlength=len(spec)).astype(np.int64).tolist()
    return {dyad_id: Window(None, facts.slice(bounds[i], bounds[i + 1]), in_window[i],
                            ids[bounds[i]:bounds[i + 1]])
            for i, (dyad_id, _, hi, _) in enumerate(spec)}


_ID_BITS = 40  # event ids the cache's update handles are below 2**40 (beyond: whole reads); a sequence far from it
_ID_LIMIT = 1 << _ID_BITS
# One event's links to the dyads asked for (w.first: the event id), for the window cache's update.


class WindowCache:
    """Each dyad's window as its latest committed assessment saw it, kept per process, so that the next
    write to the dyad reads only the events it changed instead of the whole window again (a dense
    backfill re-read ~85,000 window rows a batch; bench/RESULTS.md).

    An entry holds under a version the caller reads under the dyad's lock (the risk service uses the
    dyad's latest assessment id, which every change to the dyad's history replaces in the same
    transaction): once anything else has written the dyad, in this process or another, the versions
    differ, and the caller either names the events changed since the held version (the risk service reads
    them off the assessments in between) or reads the window whole. Entries are staged in a session and
    kept only if its outermost transaction commits with no rollback (of a savepoint either) after they
    were staged.
    Bounded by the number of facts held, each entry counted as ENTRY more; the least recently used
    dyads go first.
    """

    ENTRY = 32  # a dyad's entry costs as much as this many facts besides its own (~2 kB of objects; a fact: 69 B)

    def __init__(self, max_facts: int = 250_000, check: bool = False):
        self.max_facts = max_facts  # facts held, each entry counted ENTRY more: ~17 MB however they are spread
        # Check mode (ESCALATION_CHECK_FAST_PATHS, on in tests): every window answered from here is compared with
        # a fresh read of it, and a difference fails the write (FastPathMismatch) instead of scoring wrong facts.
        self.check = check
        self._data: OrderedDict[str, tuple[int, Window]] = OrderedDict()
        self._facts = 0
        self._lock = threading.Lock()
        self.updated = 0  # windows `updated` answered from here (a statistic: not locked, counted before commit)

    def get(self, dyad_id: str, version: int) -> Window | None:
        with self._lock:
            entry = self._data.get(dyad_id)
            if entry is None or entry[0] != version:
                return None
            self._data.move_to_end(dyad_id)
            return entry[1]

    def versions(self, dyad_ids: Iterable[str]) -> dict[str, int]:
        """The version each of these dyads' entries holds at, for those held."""
        with self._lock:
            return {d: entry[0] for d in dyad_ids if (entry := self._data.get(d)) is not None}

    def stage(self, session: Session, entries: Mapping[str, tuple[int, Window]]) -> None:
        """Keep these (dyad -> (version, window)) once the session's transaction commits; drop them if it
        ends otherwise (rolled back, or the session closed) or a savepoint rolls back first."""
        if not event.contains(session, "after_commit", _publish):
            event.listen(session, "after_commit", _publish)
            event.listen(session, "after_soft_rollback", _discard)  # any rollback, a savepoint's too
            event.listen(session, "after_transaction_end", _ended)  # after a commit's publish, or without one
        session.info.setdefault(_PENDING, {}).setdefault(self, {}).update(
            {d: (version, _compact(w)) for d, (version, w) in entries.items()})

    def _put(self, entries: Mapping[str, tuple[int, Window]]) -> None:
        with self._lock:
            for dyad_id, entry in entries.items():
                old = self._data.pop(dyad_id, None)
                if old is not None and old[0] > entry[0]:
                    entry = old  # a later assessment's window got here first (versions grow in commit order)
                self._facts += len(entry[1].facts) - (len(old[1].facts) if old else -self.ENTRY)
                self._data[dyad_id] = entry
            while self._facts > self.max_facts and self._data:
                _, (_, window) = self._data.popitem(last=False)
                self._facts -= len(window.facts) + self.ENTRY


_PENDING = "escalation.window_cache.pending"


def check_windows(session: Session, cached: Mapping[str, Window], lookback_days: int) -> None:
    """Raise FastPathMismatch unless each window from the cache equals a fresh read of the dyad's window."""
    fresh = windows(session, list(cached), lookback_days)
    for dyad_id, window in cached.items():
        other = fresh[dyad_id]
        same = (window.last_on == other.last_on and window.in_window == other.in_window
                and np.array_equal(window.event_ids, other.event_ids) and list(window.facts) == list(other.facts))
        if not same:
            raise errors.FastPathMismatch(f"window cache: dyad {dyad_id}'s window differs from a fresh read "
                                   f"({len(window.facts)} facts held, {len(other.facts)} read)")


def _publish(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the outer transaction may still roll back
    for cache, entries in session.info.pop(_PENDING, {}).items():
        cache._put(entries)


def _discard(session: Session, _transaction=None) -> None:
    session.info.pop(_PENDING, None)


def _ended(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction: committed (published first), rolled back or closed
        _discard(session)


def _compact(window: Window) -> Window:
    """The window with arrays (and members) of its own: a read's windows are views of one array for the
    whole batch, whose members are every member of the batch."""
    return Window(window.last_on, window.facts.compact(), window.in_window, window.event_ids.copy())


def updated(session: Session, cache: WindowCache, versions: Mapping[str, int], changed: Mapping[str, set[int]],
            lookback_days: int, created: Set[int] = frozenset()) -> dict[str, Window]:
    """Windows (as `windows` would read them, `until` None) of the dyads whose cached window holds at
    `versions`, brought up to date with `changed`: per dyad, the ids of its events created, revised or
    retracted since that version, by this transaction or others (their live links read again, the cached
    ones dropped; those in `created`, new in this transaction, are held nowhere and need no look-up among
    the held). Dyads the cache cannot answer are left out: their window reaches back past what is held
    (its last event went), or their first event changed (which one is first now is not held).

    All the dyads at once, as a few numpy passes: the cached windows end to end, then the read links.
    """
    cached = {d: w for d, ids in changed.items()
              if d in versions and (w := cache.get(d, versions[d])) is not None}
    if not cached or max((max(ids, default=0) for ids in changed.values()), default=0) >= _ID_LIMIT:
        return {}
    keys, olds = list(cached), list(cached.values())
    k = len(keys)
    rows = storage_windows.event_rows(session, [(i, d, event_id) for i, d in enumerate(keys) for event_id in changed[d]])
    which_read, ids_read, read = _columns(rows) if rows else (NO_IDS, NO_IDS, NONE)

    sizes = np.array([len(w.facts) for w in olds], dtype=np.int64)
    starts = np.cumsum(sizes) - sizes
    which = np.repeat(np.arange(k, dtype=np.int64), sizes)
    ids = np.concatenate([w.event_ids for w in olds])
    if len(ids) and ids.max() >= _ID_LIMIT:
        return {}
    facts = FactColumns.concat([*(w.facts for w in olds), read])  # the held rows, then the rows read
    n_old = len(ids)
    # What is held of each dyad: every live event from its old window's start on, and its first event.
    # Where that first event lies before the old window, nothing else before the window is held.
    old_lo = np.array([w.last_on.toordinal() - lookback_days if w.last_on else 0 for w in olds], dtype=np.int64)
    separate = (sizes > 0) & (facts.day[np.minimum(starts, n_old - 1)] < old_lo) if n_old else sizes > 0
    held_from = np.where(separate, old_lo, -1)
    gone = np.array([i << _ID_BITS | e for i, d in enumerate(keys) for e in changed[d] if e not in created],
                    dtype=np.int64)
    keep = ~np.isin(which << _ID_BITS | ids, gone) if len(gone) else np.ones(n_old, dtype=bool)  # (dyad, event)
    lost_first = separate & ~keep[np.minimum(starts, n_old - 1)] if n_old else separate

    which, ids = np.concatenate([which, which_read]), np.concatenate([ids, ids_read])
    order = _merged(which << DAY_BITS | facts.day, ids, np.flatnonzero(keep),
                    n_old + np.lexsort((ids_read, read.day, which_read)))
    which, day = which[order], facts.day[order]
    bounds = np.searchsorted(which, np.arange(k + 1))
    nonempty = bounds[1:] > bounds[:-1]
    last = np.where(nonempty, day[np.maximum(bounds[1:] - 1, 0)] if len(day) else 0, 0)
    lo = last - lookback_days
    unanswered = lost_first | nonempty & (lo < held_from)
    inside = day >= lo[which]
    chosen = inside.copy()
    chosen[bounds[:-1][nonempty]] = True  # each dyad's first event, also when it lies before the window
    rows_kept = order[chosen]  # one copy of the facts, in order and windowed
    facts, which, ids = facts.take(rows_kept), which[chosen], ids[rows_kept]
    in_window = np.bincount(which, weights=inside[chosen], minlength=k).astype(np.int64).tolist()
    bounds = np.searchsorted(which, np.arange(k + 1)).tolist()
    out = {}
    for i, dyad_id in enumerate(keys):
        if unanswered[i]:
            continue
        cache.updated += 1
        out[dyad_id] = Window(date.fromordinal(int(last[i])), facts.slice(bounds[i], bounds[i + 1]), in_window[i],
                              ids[bounds[i]:bounds[i + 1]]) if nonempty[i] else Window()
    return out


def _merged(key: np.ndarray, ids: np.ndarray, kept: np.ndarray, new: np.ndarray) -> np.ndarray:
    """The row indices `kept` and `new`, each already in (key, event id) order, merged in that order: the
    new rows' places found by binary search among the kept ones (no sort of the held rows). The held rows
    are in that order because both producers of a window (`windows`, `updated`) put them so; ties are
    ranked as (run of equal keys << _ID_BITS | id), below 2**63 while fewer than 2**23 rows are held
    (the cache holds at most `max_facts`)."""
    kept_key, new_key = key[kept], key[new]
    at = np.searchsorted(kept_key, new_key)
    tied = np.flatnonzero(at < len(kept))
    tied = tied[kept_key[at[tied]] == new_key[tied]]
    if len(tied):  # the same dyad and day as kept rows: among those, by event id
        run = np.concatenate([[0], np.cumsum(kept_key[1:] != kept_key[:-1])])  # ascending, one per key
        at[tied] = np.searchsorted(run << _ID_BITS | ids[kept], run[at[tied]] << _ID_BITS | ids[new[tied]])
    slot = at + np.arange(len(new))  # the new rows' places once merged (at is non-decreasing)
    order = np.empty(len(kept) + len(new), dtype=np.int64)
    placed = np.zeros(len(order), dtype=bool)
    placed[slot] = True
    order[slot], order[~placed] = new, kept
    return order
