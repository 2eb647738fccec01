"""What the data say, measured on fit + validation samples only (never the test periods):
reciprocity and de-escalation against the primary target, and the fitted model's terms for them.
Plus the episode benchmark after the fit period: ICB crises scored at their trigger date (interstate,
2005-2014) and GED flare-ups scored on their first day (non-state, 2018-2023).
"""

from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from app.events.dyads import facts_for
from app.events.members import dyad_id
from app.events.schemas import EventCreate
from app.ml import baselines as baseline_protocol
from app.ml import crises, dataset
from app.ml.context import ContextTable
from app.ml.features import INDEX, History, build_matrix
from app.ml.fronts import Activity
from app.ml.labels import PRIMARY, SERIOUS_DEATHS, label_matrix, previous_matrix


def _rate(y: np.ndarray, mask: np.ndarray) -> dict[str, float | int]:
    n = int(mask.sum())
    return {"n": n, "rate": round(float(y[mask].mean()), 4) if n else None}


def _term(terms: np.ndarray, X: np.ndarray, feature: str, mask: np.ndarray) -> float | None:
    """Mean calibrated log-odds term of `feature` where it is set minus where it is not, within `mask`."""
    j = INDEX[feature]
    on, off = mask & (X[:, j] > 0), mask & (X[:, j] == 0)
    if not on.any() or not off.any():
        return None
    return round(float(terms[on, j].mean() - terms[off, j].mean()), 4)


def measure(ds: dataset.Dataset, contributions: np.ndarray) -> dict[str, Any]:
    """Observed rates and learnt effects. `contributions` are the shipped model's log-odds terms for ds.X."""
    known = (ds.split == "fit") | (ds.split == "val")
    y, X = ds.y[PRIMARY], ds.X
    inter = known & (ds.test_set == "mie_interstate")
    struck = inter & (X[:, INDEX["use_of_force_30d"]] > 0)
    answered = X[:, INDEX["reciprocated_30d"]] > 0
    chain = X[:, INDEX["tit_for_tat_chain_30d"]]
    heavy = inter & (X[:, INDEX["log_fatalities_365d"]] >= np.log1p(SERIOUS_DEATHS))
    calm = X[:, INDEX["deescalated_since_fighting"]] > 0
    return {
        "scope": "interstate samples (MIE + ICB + MID 5) of the fit and validation periods",
        "reciprocity": {
            "one_sided_strike_30d": _rate(y, struck & ~answered),
            "answered_strike_30d": _rate(y, struck & answered),
            "tit_for_tat_chain_3plus": _rate(y, struck & (chain >= 3)),
            "model_log_odds_reciprocated": _term(contributions, X, "reciprocated_30d", struck),
        },
        "deescalation": {
            "heavy_fighting_definition": f">= {SERIOUS_DEATHS} deaths in the dyad over the past 365 days",
            "no_deescalation_since_fighting": _rate(y, heavy & ~calm),
            "agreement_or_ceasefire_since_fighting": _rate(y, heavy & calm),
            "model_log_odds_deescalated": _term(contributions, X, "deescalated_since_fighting", heavy),
        },
    }


EPISODE_SETS = (  # (name, source's test set, split, which samples)
    ("icb_test_2005_2014", "mie_interstate", "test", "episode"),
    ("ged_global_flare_ups_test_2018_2020", "ged_global", "test", "flare_up"),
    ("ged_slices_flare_ups_test_2018_2023", "ged_slices", "test", "flare_up"),
    ("icb_validation_1995_2004", "mie_interstate", "val", "episode"),
    ("ged_global_flare_ups_validation_2014_2017", "ged_global", "val", "flare_up"),
)
DEFINITIONS = {
    "episode": "ICB v14 crises between two states with a trigger date in the period, one sample per (triggering "
    "state, crisis actor) dyad at the trigger date, history = MIE + ICB + MID events up to that day; outcome = "
    "the primary target from MIE fatalities",
    "flare_up": "UCDP GED dyads (global 21.1, precise locations; or the Mexico, Myanmar, Syria slices): "
    "every event day with no event in the dyad over "
    "the 90 days before it (a dyad's first recorded event included), dated at that day, history = the dyad's GED "
    "events up to that day; outcome = the primary target from GED deaths",
}


def episodes(ds: dataset.Dataset, p_model: np.ndarray, baselines: dict[str, np.ndarray]) -> dict[str, Any]:
    """Episodes after the fit period, scored from the events known on their date (no tuning on them)."""
    return {name: _episodes(ds, p_model, baselines, test_set, split, which)
            for name, test_set, split, which in EPISODE_SETS}


def _episodes(ds: dataset.Dataset, p_model: np.ndarray, baselines: dict[str, np.ndarray], test_set: str,
              split: str, which: str) -> dict[str, Any]:
    mask = getattr(ds, which) & (ds.split == split) & (ds.test_set == test_set)
    y = ds.y[PRIMARY][mask]
    so_far = ds.X[mask, INDEX["log_fatalities_365d"]]  # deaths in the dyad's past year: "fatalities so far"
    both = len(np.unique(y)) == 2

    def auc(p: np.ndarray) -> float | None:
        return round(baseline_protocol.auc(y, p), 4) if both else None

    return {
        "definition": DEFINITIONS[which],
        "n": int(mask.sum()),
        "positives": int(y.sum()),
        "auc_model": auc(p_model[mask]),
        "auc_fatalities_so_far": auc(so_far),
        **{f"auc_{k}": auc(v[mask]) for k, v in baselines.items()},
    }


# 2015-2017 lies in GED global's validation period (settings and calibration were chosen there): only 2018-2019
# is out of time.
ICB15_PERIODS = {"icb_v15_2015_2017_validation_period": (2015, 2017), "icb_v15_2018_2019": (2018, 2019)}
ICB15_DEFINITION = (
    "ICB v15 crises between two states with a trigger date in the period, one sample per (triggering state, "
    "crisis actor) dyad at the trigger date, history = the dyad's UCDP GED global events (precise locations) + "
    "its ICB v15 trigger and agreed-termination events up to that day; outcome = the primary target from GED "
    "deaths; baselines are GED global's. 2015-2017 lies in GED global's validation period (not out of time); "
    "2018-2019 is after the cut-off")


def icb_v15_episodes(data_dir: Path, table: ContextTable, model: Any, fitted: dict[str, Any]) -> dict[str, Any]:
    """ICB v15's crises of 2015-2019, scored as the service would from the events known at their trigger, per
    period of ICB15_PERIODS."""
    ged = next(s for s in dataset.SOURCES if s.name == "ged_global")
    numbers: dict[str, list[int]] = {}
    histories = {k: facts for k, (_, _, facts) in dataset.dyad_histories(ged, data_dir, Counter(), None,
                                                                         numbers).items()}
    icb: dict[str, list] = {}
    links: list[tuple[str, list]] = [(k, list(zip(numbers[k], facts))) for k, facts in histories.items()]
    for n, raw in enumerate(crises.icb_events(data_dir, Counter(), crises.ICB15_ACTORS)):
        for link, fact in facts_for(EventCreate.model_validate(raw)):
            icb.setdefault(link.dyad_id, []).append(fact)
            links.append((link.dyad_id, [(("icb", n), fact)]))
    activity = Activity.of_histories(links)
    return {name: _icb_v15(data_dir, table, model, fitted, years, histories, icb, activity)
            for name, years in ICB15_PERIODS.items()}


def _icb_v15(data_dir: Path, table: ContextTable, model: Any, fitted: dict[str, Any], years: tuple[int, int],
             histories: dict[str, list], icb: dict[str, list], activity: Activity) -> dict[str, Any]:
    seen, items, ys, prev, inputs = set(), [], [], [], []
    for a, b, day in crises.icb_triggers(data_dir, crises.ICB15_ACTORS):
        key = dyad_id(a, b)
        if not years[0] <= day.year <= years[1] or (key, day) in seen:
            continue
        seen.add((key, day))
        facts = sorted(histories.get(key, []) + icb.get(key, []), key=lambda f: f.occurred_on)
        h, t = History(facts), np.array([day.toordinal()])
        context = table.context_for(a, b, date(day.year, 7, 1))
        items.append((facts, day, replace(context, fronts=activity.fronts(key, (a, b), day.toordinal()))))
        ys.append(label_matrix(h, t)[PRIMARY][0])
        prev.append(previous_matrix(h, t)[PRIMARY][0])
        inputs.append(baseline_protocol.inputs(h, t))
    X, y = build_matrix(items), np.array(ys, dtype=np.int8)
    ds = SimpleNamespace(X=X, y_prev={PRIMARY: np.array(prev, dtype=np.int8)},
                         base={k: np.concatenate([i[k] for i in inputs]) for k in inputs[0]} if inputs else {})
    rows = np.ones(len(y), dtype=bool)
    both = len(np.unique(y)) == 2

    def auc(p: np.ndarray) -> float | None:
        return round(baseline_protocol.auc(y, p), 4) if both else None

    return {
        "definition": ICB15_DEFINITION, "n": int(len(y)), "positives": int(y.sum()),
        "auc_model": auc(model.predict_proba(X)[:, 1]) if len(y) else None,
        "auc_fatalities_so_far": auc(X[:, INDEX["log_fatalities_365d"]]) if len(y) else None,
        **{f"auc_{name}": auc(b.predict(ds, rows)) if len(y) else None for name, b in fitted.items()},
    }
