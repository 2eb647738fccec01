"""Training samples: per-dyad fact histories, sample dates, features, labels and time-ordered splits.

Events go importer dict -> `EventCreate.model_validate` -> `facts_for`, the path the service uses.
Interstate histories are MIE days plus ICB crisis triggers and agreed terminations and MID 5
settlements (app.ml.crises). Sample dates are every day a dyad has events, every ICB trigger
date (a crisis as it breaks out), plus quiet follow-up days (15 ... 730 days after an event,
when nothing happened in between) so the model sees risk decay in quiet dyads.
A sample's contagion features read the other dyads of the same source (app.ml.fronts).
Each sample also carries each target's own value over the previous 30 days (the persistence
forecast's input, point-in-time) and, for GED dyads, whether it is a flare-up (an event day after
>= 90 quiet days: GED's episode benchmark).
Splits are by the sample date, with a 30-day embargo so no label window crosses a split edge.
One cut-off for every source: nothing after 2017-12-31 is fit, calibrated or used to choose
settings; MIE 2005-2014 (never fit) and GED 2018-2023 are the test periods.
"""

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np

from app.events.dyads import facts_for
from app.events.members import dyad_id
from app.events.schemas import EventCreate
from app.importers import mie, ucdp_ged
from app.ml import baselines, crises
from app.ml.context import ContextTable
from app.events.facts import EventFact
from app.ml.features import History, build_matrix
from app.ml.fronts import Activity
from app.ml.labels import HORIZON, TARGETS, label_matrix, previous_matrix

FOLLOW_UPS = (15, 45, 90, 180, 365, 730)
FLARE_UP_QUIET = 90  # a flare-up: an event day with no event in the dyad over the 90 days before it
CUTOFF = date(2017, 12, 31)  # nothing later fits, calibrates or tunes
Reader = Callable[[Path, Counter], Iterator[dict]]


def _file(path: str, read: Callable[[Path, Counter], Iterator[dict]]) -> Reader:
    return lambda data_dir, skipped: read(data_dir / path, skipped)


@dataclass(frozen=True)
class Source:
    name: str
    path: str  # the main file, relative to the data directory
    readers: tuple[Reader, ...]
    test_set: str
    fit_end: int  # last year of the fit period
    val_end: int  # last year of validation; test runs from the next year to coverage_end
    coverage_end: date
    extra_files: tuple[str, ...] = ()
    crises: bool = False  # add ICB trigger dates as sample dates
    trains: bool = True  # False: a test set only (its fit and validation samples fit its own baselines, not the model)


def _ged(name: str, path: str, test_set: str, fit_end: int, val_end: int, end: date, trains: bool) -> Source:
    return Source(name, path, (_file(path, ucdp_ged.iter_events),), test_set, fit_end, val_end, end, trains=trains)


MIE = "mie-1.0/mie-1.0.csv"
SOURCES = (
    Source("mie", MIE, (_file(MIE, mie.iter_events), crises.icb_events, crises.mid_settlements),
           "mie_interstate", 1994, 2004, date(2014, 12, 31),
           extra_files=(crises.ICB_ACTORS, crises.MID_DISPUTES, crises.MID_PARTICIPANTS, crises.ICB15_ACTORS),
           crises=True),
    # GED global (precise locations only): state-based, non-state and one-sided dyads worldwide
    _ged("ged_global", "ucdp-ged-21.1-reduced/ged_v21_1_whereprec12.csv.gz", "ged_global", 2013, 2017,
         date(2020, 12, 31), trains=True),
    # The three country slices run to 2023 with every location precision: test sets only (their countries are
    # in GED global's fit period too, so fitting on both would count those dyads twice)
    _ged("ged_mexico", "ucdp-ged-slices/netify_mexico.csv", "ged_slices", 2013, 2017, date(2023, 12, 31), False),
    _ged("ged_myanmar", "ucdp-ged-slices/netify_myanmar.csv", "ged_slices", 2013, 2017, date(2023, 12, 31), False),
    _ged("ged_syria", "ucdp-ged-slices/data4ds4da_ucdp_syria_df.csv", "ged_slices", 2016, 2017, date(2019, 11, 30),
         False),
)
TEST_SETS = tuple(dict.fromkeys(s.test_set for s in SOURCES))
TRAINING_SETS = tuple(dict.fromkeys(s.test_set for s in SOURCES if s.trains))
# uncertainUCDP_ucdpged.csv (a random 1,000-event global sample) is left out: a dyad keeps ~1 in 100
# of its events there, so its labels would measure the sampling, not escalation.


@dataclass
class Dataset:
    X: np.ndarray
    y: dict[str, np.ndarray]
    split: np.ndarray  # "fit" | "val" | "test"
    test_set: np.ndarray  # one of TEST_SETS
    kind: np.ndarray
    episode: np.ndarray  # True for ICB trigger samples (the episode benchmark)
    dyad: np.ndarray  # the dyad id of each sample (for a dyad-level bootstrap)
    flare_up: np.ndarray  # True for an event day after >= 90 quiet days (GED's episode benchmark)
    y_prev: dict[str, np.ndarray]  # each target's own value over (t-30, t]: the persistence forecast's input
    base: dict[str, np.ndarray]  # the baselines' other inputs (app.ml.baselines.inputs), point-in-time
    day: np.ndarray  # each sample's date as an ordinal (the rolling-origin backtest splits by it)
    events_read: dict[str, int]  # "source:action" -> events read
    skipped: dict[str, dict[str, int]]
    files: list[str]


def dyad_histories(
    source: Source, data_dir: Path, skipped: Counter[str], read: Counter[str] | None = None,
    events: dict[str, list[int]] | None = None,
) -> dict[str, tuple[str, str, list[EventFact]]]:
    """dyad id -> (member a, member b, facts), through the same contract the API uses; with `events`, each dyad's
    event numbers too (in the order of its facts: one number per source event, shared by the dyads it links)."""
    out: dict[str, tuple[str, str, list[EventFact]]] = {}
    number = 0
    for reader in source.readers:
        for raw in reader(data_dir, skipped):
            if read is not None:  # what each source contributed, by action, for the card
                read[f"{raw['source']}:{raw['action']}"] += 1
            for link, fact in facts_for(EventCreate.model_validate(raw)):
                out.setdefault(link.dyad_id, (link.member_a, link.member_b, []))[2].append(fact)
                if events is not None:
                    events.setdefault(link.dyad_id, []).append(number)
            number += 1
    return out


def sample_days(days: np.ndarray, last_day: int, extra: np.ndarray | None = None) -> np.ndarray:
    """Event days (and `extra` days) plus quiet follow-ups, up to the last day whose horizon is still observed."""
    uniq = np.unique(days)
    nxt = np.append(uniq[1:], np.iinfo(np.int64).max)
    quiet = [d + k for d, n in zip(uniq, nxt, strict=True) for k in FOLLOW_UPS if d + k < n]
    more = [] if extra is None else list(extra)
    out = np.unique(np.concatenate([uniq, np.array(quiet + more, dtype=np.int64)]))
    return out[out <= last_day]


def flare_ups(event_days: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Which of `days` are event days with no event in the FLARE_UP_QUIET days before (a dyad's first event too)."""
    uniq = np.unique(event_days)
    prev = np.concatenate([[np.iinfo(np.int64).min // 2], uniq[:-1]])
    starts = uniq[uniq - prev > FLARE_UP_QUIET]
    return np.isin(days, starts)


def _split(days: np.ndarray, source: Source) -> np.ndarray:
    fit_end = date(source.fit_end, 12, 31).toordinal()
    val_end = date(source.val_end, 12, 31).toordinal()
    out = np.full(days.shape, "", dtype=object)
    out[days <= fit_end - HORIZON] = "fit"
    out[(days > fit_end) & (days <= val_end - HORIZON)] = "val"
    out[days > val_end] = "test"
    assert val_end <= CUTOFF.toordinal(), "validation must end by the cut-off"
    return out


def _triggers(data_dir: Path) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for a, b, day in crises.icb_triggers(data_dir):
        out.setdefault(dyad_id(a, b), set()).add(day.toordinal())
    return out


def build(data_dir: Path, table: ContextTable, log: Callable[[str], None] = print) -> Dataset:
    """All samples of all sources, in one matrix."""
    parts: list[tuple] = []
    skipped: dict[str, dict[str, int]] = {}
    read: Counter[str] = Counter()
    for source in SOURCES:
        started, counts = time.time(), Counter()
        numbers: dict[str, list[int]] = {}
        histories = dyad_histories(source, data_dir, counts, read, numbers)
        skipped[source.name] = dict(counts)
        last_day = source.coverage_end.toordinal() - HORIZON
        triggers = _triggers(data_dir) if source.crises else {}
        activity = Activity.of_histories((key, zip(numbers[key], facts)) for key, (_, _, facts) in histories.items())
        for key, (a, b, facts) in histories.items():
            h = History(facts)
            crisis_days = np.array(sorted(triggers.get(key, ())), dtype=np.int64)
            days = sample_days(h.day, last_day, crisis_days)
            split = _split(days, source)
            days, split = days[split != ""], split[split != ""]
            if not days.size:
                continue
            dates = [date.fromordinal(int(d)) for d in days]
            contexts = {y: table.context_for(a, b, date(y, 7, 1)) for y in {d.year for d in dates}}
            X = build_matrix([(facts, d, replace(contexts[d.year], fronts=activity.fronts(key, (a, b), t)))
                              for d, t in zip(dates, days.tolist())])
            y, y_prev = label_matrix(h, days), previous_matrix(h, days)
            kind = contexts[dates[0].year].kind
            flare = flare_ups(h.day, days) if not source.crises else np.zeros(days.shape, dtype=bool)
            parts.append((X, y, split, source.test_set, kind, np.isin(days, crisis_days), flare, y_prev, key,
                          baselines.inputs(h, days), days))
        n = sum(len(p[0]) for p in parts)
        log(
            f"  {source.name}: {len(histories)} dyads, skipped {dict(counts)}, {n} samples so far "
            f"({time.time() - started:.1f}s)"
        )
    return Dataset(
        X=np.vstack([p[0] for p in parts]),
        y={t: np.concatenate([p[1][t] for p in parts]) for t in TARGETS},
        split=np.concatenate([p[2] for p in parts]),
        test_set=np.concatenate([np.full(len(p[0]), p[3], dtype=object) for p in parts]),
        kind=np.concatenate([np.full(len(p[0]), p[4], dtype=object) for p in parts]),
        episode=np.concatenate([p[5] for p in parts]),
        dyad=np.concatenate([np.full(len(p[0]), p[8], dtype=object) for p in parts]),
        flare_up=np.concatenate([p[6] for p in parts]),
        y_prev={t: np.concatenate([p[7][t] for p in parts]) for t in TARGETS},
        base={k: np.concatenate([p[9][k] for p in parts]) for k in parts[0][9]},
        day=np.concatenate([p[10] for p in parts]),
        events_read=dict(sorted(read.items())),
        skipped=skipped,
        files=[f for s in SOURCES for f in (s.path, *s.extra_files)],
    )
