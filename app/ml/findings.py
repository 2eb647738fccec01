"""What the data say, measured on fit + validation samples only (never the test periods):
reciprocity and de-escalation against the primary target, and the fitted model's terms for them.
Plus the episode benchmark after the fit period: ICB crises scored at their trigger date (interstate,
2005-2014) and GED flare-ups scored on their first day (non-state, 2018-2023).
"""

from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from app.ml import dataset
from app.ml.features import INDEX
from app.ml.labels import PRIMARY, SERIOUS_DEATHS


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
    ("ged_flare_ups_test_2018_2023", "ged", "test", "flare_up"),
    ("icb_validation_1995_2004", "mie_interstate", "val", "episode"),
    ("ged_flare_ups_validation_2014_2017", "ged", "val", "flare_up"),
)
DEFINITIONS = {
    "episode": "ICB v14 crises between two states with a trigger date in the period, one sample per (triggering "
    "state, crisis actor) dyad at the trigger date, history = MIE + ICB + MID events up to that day; outcome = "
    "the primary target from MIE fatalities",
    "flare_up": "UCDP GED dyads (Mexico, Myanmar, Syria slices): every event day with no event in the dyad over "
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
        return round(float(roc_auc_score(y, p)), 4) if both else None

    return {
        "definition": DEFINITIONS[which],
        "n": int(mask.sum()),
        "positives": int(y.sum()),
        "auc_model": auc(p_model[mask]),
        "auc_fatalities_so_far": auc(so_far),
        **{f"auc_{k}": auc(v[mask]) for k, v in baselines.items()},
    }
