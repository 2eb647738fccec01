"""Training samples: per-dyad fact histories, sample dates, features, labels and time-ordered splits.

Events go importer dict -> `EventCreate.model_validate` -> `facts_for`, the path the service uses.
Sample dates are every day a dyad has events, plus quiet follow-up days (15 ... 730 days after
an event, when nothing happened in between) so the model sees risk decay in quiet dyads.
Splits are by the sample date, with a 30-day embargo so no label window crosses a split edge.
"""

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from app.events.dyads import facts_for
from app.events.schemas import EventCreate
from app.importers import mie, ucdp_ged
from app.ml.context import ContextTable
from app.events.facts import EventFact
from app.ml.features import History, build_matrix
from app.ml.labels import HORIZON, TARGETS, label_matrix

FOLLOW_UPS = (15, 45, 90, 180, 365, 730)


@dataclass(frozen=True)
class Source:
    name: str
    path: str  # relative to the data directory
    reader: Callable[..., Iterator[dict]]
    test_set: str
    fit_end: int  # last year of the fit period
    val_end: int  # last year of validation; test runs from the next year to coverage_end
    coverage_end: date


SOURCES = (
    Source("mie", "mie-1.0/mie-1.0.csv", mie.iter_events, "mie_interstate", 1994, 2004, date(2014, 12, 31)),
    Source(
        "ged_mexico", "ucdp-ged-slices/netify_mexico.csv", ucdp_ged.iter_events, "ged", 2013, 2018, date(2023, 12, 31)
    ),
    Source(
        "ged_myanmar", "ucdp-ged-slices/netify_myanmar.csv", ucdp_ged.iter_events, "ged", 2013, 2018, date(2023, 12, 31)
    ),
    Source(
        "ged_syria",
        "ucdp-ged-slices/data4ds4da_ucdp_syria_df.csv",
        ucdp_ged.iter_events,
        "ged",
        2017,
        2018,
        date(2019, 11, 30),
    ),
)
# uncertainUCDP_ucdpged.csv (a random 1,000-event global sample) is left out: a dyad keeps ~1 in 100
# of its events there, so its labels would measure the sampling, not escalation.


@dataclass
class Dataset:
    X: np.ndarray
    y: dict[str, np.ndarray]
    split: np.ndarray  # "fit" | "val" | "test"
    test_set: np.ndarray  # "mie_interstate" | "ged"
    kind: np.ndarray
    skipped: dict[str, dict[str, int]]
    files: list[str]


def dyad_histories(
    source: Source, data_dir: Path, skipped: Counter[str]
) -> dict[str, tuple[str, str, list[EventFact]]]:
    """dyad id -> (member a, member b, facts), through the same contract the API uses."""
    out: dict[str, tuple[str, str, list[EventFact]]] = {}
    for raw in source.reader(data_dir / source.path, skipped):
        for link, fact in facts_for(EventCreate.model_validate(raw)):
            out.setdefault(link.dyad_id, (link.member_a, link.member_b, []))[2].append(fact)
    return out


def sample_days(days: np.ndarray, last_day: int) -> np.ndarray:
    """Event days plus quiet follow-ups, up to the last day whose horizon is still observed."""
    uniq = np.unique(days)
    nxt = np.append(uniq[1:], np.iinfo(np.int64).max)
    quiet = [d + k for d, n in zip(uniq, nxt, strict=True) for k in FOLLOW_UPS if d + k < n]
    out = np.unique(np.concatenate([uniq, np.array(quiet, dtype=np.int64)]))
    return out[out <= last_day]


def _split(days: np.ndarray, source: Source) -> np.ndarray:
    fit_end = date(source.fit_end, 12, 31).toordinal()
    val_end = date(source.val_end, 12, 31).toordinal()
    out = np.full(days.shape, "", dtype=object)
    out[days <= fit_end - HORIZON] = "fit"
    out[(days > fit_end) & (days <= val_end - HORIZON)] = "val"
    out[days > val_end] = "test"
    return out


def build(data_dir: Path, table: ContextTable, log: Callable[[str], None] = print) -> Dataset:
    """All samples of all sources, in one matrix."""
    parts: list[tuple] = []
    skipped: dict[str, dict[str, int]] = {}
    for source in SOURCES:
        started, counts = time.time(), Counter()
        histories = dyad_histories(source, data_dir, counts)
        skipped[source.name] = dict(counts)
        last_day = source.coverage_end.toordinal() - HORIZON
        for a, b, facts in histories.values():
            h = History(facts)
            days = sample_days(h.day, last_day)
            split = _split(days, source)
            days = days[split != ""]
            if not days.size:
                continue
            dates = [date.fromordinal(int(d)) for d in days]
            contexts = {y: table.context_for(a, b, date(y, 7, 1)) for y in {d.year for d in dates}}
            X = build_matrix([(facts, d, contexts[d.year]) for d in dates])
            y = label_matrix(h, days)
            kind = contexts[dates[0].year].kind
            parts.append((X, y, split[split != ""], source.test_set, kind))
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
        skipped=skipped,
        files=[s.path for s in SOURCES],
    )
