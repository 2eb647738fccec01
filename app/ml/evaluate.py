"""Out-of-time evaluation: model vs three baselines, per target and test set; risk level cut-offs.

- `climatology`: the fit-period base rate of the test set's source.
- `persistence`: the textbook persistence forecast. The target's own value over the previous 30
  days, (t-30, t] (labels.previous_matrix: the same definitions as the labels), turned into a
  probability as the fit-period frequency of the target given that value, per test set's source.
- `recent_violence`: a stronger baseline, a logistic regression on recent violence only (events,
  log fatalities and max hostility over 30 days) fit on the same fit period.
Metrics use the test period only.
"""

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from app.config import REPO_ROOT
from app.ml import artifact, dataset
from app.ml.context import ContextTable
from app.ml.features import INDEX
from app.ml.labels import PRIMARY, TARGETS

RECENT_VIOLENCE = ("events_30d", "log_fatalities_30d", "max_hostility_30d")
BASELINES = ("climatology", "persistence", "recent_violence")
TEST_SETS = ("mie_interstate", "ged")
# P(at least 25 deaths within 30 days) at which a level starts: 1 in 20, 1 in 5, even odds.
LEVEL_CUTS = {"elevated": 0.05, "high": 0.2, "critical": 0.5}
BINS = 10
BOOTSTRAP = 500  # dyad-level resamples for the interval of the primary target's lift over each baseline


def reliability(p: np.ndarray, y: np.ndarray) -> tuple[float, list[list[float]]]:
    """Expected calibration error over equal-width bins, and the bins as [mean p, observed rate, n]."""
    which = np.minimum((p * BINS).astype(int), BINS - 1)
    rows, ece = [], 0.0
    for b in range(BINS):
        mask = which == b
        if mask.any():
            rows.append([round(float(p[mask].mean()), 4), round(float(y[mask].mean()), 4), int(mask.sum())])
            ece += mask.mean() * abs(p[mask].mean() - y[mask].mean())
    return float(ece), rows


def scores(p: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    ece, bins = reliability(p, y)
    both = len(np.unique(y)) == 2
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both else None,
        "pr_auc": float(average_precision_score(y, p)) if both else None,
        "brier": float(brier_score_loss(y, p)),
        "ece": ece,
        "reliability": bins,
    }


def recent_violence_model(ds: dataset.Dataset, target: str, test_set: str) -> LogisticRegression:
    rows = (ds.split == "fit") & (ds.test_set == test_set)
    cols = [INDEX[c] for c in RECENT_VIOLENCE]
    return LogisticRegression(max_iter=1000).fit(ds.X[rows][:, cols], ds.y[target][rows])


def recent_violence_proba(ds: dataset.Dataset, target: str, test_set: str, X: np.ndarray) -> np.ndarray:
    return recent_violence_model(ds, target, test_set).predict_proba(X[:, [INDEX[c] for c in RECENT_VIOLENCE]])[:, 1]


def persistence_table(ds: dataset.Dataset, target: str, test_set: str) -> dict[int, float]:
    """P(target | its value over the previous 30 days), as fit-period frequencies of the test set's source."""
    rows = (ds.split == "fit") & (ds.test_set == test_set)
    y, prev = ds.y[target][rows], ds.y_prev[target][rows]
    return {v: float(y[prev == v].mean()) if (prev == v).any() else float(y.mean()) for v in (0, 1)}


def persistence_proba(ds: dataset.Dataset, target: str, test_set: str, rows: np.ndarray) -> np.ndarray:
    """The textbook persistence forecast for the samples `rows` (a mask over ds)."""
    table = persistence_table(ds, target, test_set)
    return np.where(ds.y_prev[target][rows] == 1, table[1], table[0])


def baseline_probas(ds: dataset.Dataset, target: str) -> dict[str, np.ndarray]:
    """Persistence and recent_violence for every sample of ds, each from its own source's fit period."""
    out = {"persistence": np.zeros(len(ds.X)), "recent_violence": np.zeros(len(ds.X))}
    for test_set in TEST_SETS:
        rows = ds.test_set == test_set
        out["persistence"][rows] = persistence_proba(ds, target, test_set, rows)
        out["recent_violence"][rows] = recent_violence_proba(ds, target, test_set, ds.X[rows])
    return out


def lift_interval(y: np.ndarray, p_model: np.ndarray, p_base: np.ndarray, groups: np.ndarray,
                  n: int = BOOTSTRAP) -> dict[str, list[float] | int]:
    """95% intervals of ROC-AUC(model) - ROC-AUC(baseline) and of the Brier skill vs the baseline, resampling whole
    dyads with replacement (a dyad's samples are correlated in time), seeded: deterministic."""
    rng = np.random.default_rng(0)
    names, where = np.unique(groups, return_inverse=True)
    rows = [np.flatnonzero(where == g) for g in range(len(names))]
    lifts, skills = [], []
    for _ in range(n):
        take = np.concatenate([rows[g] for g in rng.integers(0, len(names), len(names))])
        yy = y[take]
        if yy.min() == yy.max():
            continue  # a resample without both classes has no AUC
        lifts.append(roc_auc_score(yy, p_model[take]) - roc_auc_score(yy, p_base[take]))
        skills.append(1 - brier_score_loss(yy, p_model[take]) / brier_score_loss(yy, p_base[take]))
    q = lambda v: [round(float(x), 4) for x in np.percentile(v, [2.5, 97.5])]  # noqa: E731
    return {"auc_lift_95": q(lifts), "bss_95": q(skills), "resamples": len(lifts), "dyads": len(names)}


def evaluate(ds: dataset.Dataset, models: dict[str, Any]) -> dict[str, dict[str, dict]]:
    """metrics[target][test_set] = {n, base_rate, model, each baseline, skill scores against each}."""
    out: dict[str, dict[str, dict]] = {}
    for target in TARGETS:
        out[target] = {}
        for test_set in TEST_SETS:
            test = (ds.split == "test") & (ds.test_set == test_set)
            y = ds.y[target][test]
            rate = float(ds.y[target][(ds.split == "fit") & (ds.test_set == test_set)].mean())
            p_model = models[target].predict_proba(ds.X[test])[:, 1]
            p_base = {"persistence": persistence_proba(ds, target, test_set, test),
                      "recent_violence": recent_violence_proba(ds, target, test_set, ds.X[test])}
            res = {
                "n": int(test.sum()),
                "positive_rate": float(y.mean()),
                "fit_base_rate": rate,
                "persistence_table": {str(k): v for k, v in persistence_table(ds, target, test_set).items()},
                "model": scores(p_model, y),
                "climatology": scores(np.full(y.shape, rate), y),
                "persistence": scores(p_base["persistence"], y),
                "recent_violence": scores(p_base["recent_violence"], y),
            }
            for base in BASELINES:
                res[f"bss_vs_{base}"] = 1 - res["model"]["brier"] / res[base]["brier"]
            if target == PRIMARY:  # how far the bar's figures could move with other dyads
                res["intervals"] = {b: lift_interval(y, p_model, p, ds.dyad[test]) for b, p in p_base.items()}
            out[target][test_set] = res
    return out


def thresholds(p_val: np.ndarray, y_val: np.ndarray) -> dict[str, dict[str, float | int | None]]:
    """Level cut-offs on P(primary), fixed in probability (the model is calibrated: ECE in the card), with the
    validation precision and support each cut-off reaches, so a reader sees what a level meant there."""
    out = {}
    for level, cut in LEVEL_CUTS.items():
        above = p_val >= cut
        out[level] = {"cut": cut, "validation_precision": round(float(y_val[above].mean()), 4) if above.any() else None,
                      "validation_support": int(above.sum())}
    return out


def table(metrics: dict) -> str:
    """The metric table as plain text: m = model, p = persistence, r = recent_violence, c = climatology."""
    lines = [
        f"{'target':20} {'test set':14} {'n':>6} {'rate':>5} | {'ROC-AUC m/p/r':>14} | {'PR-AUC m/p/r/c':>19} | "
        f"{'Brier m/p/r/c':>23} | {'BSS vs c/p/r':>17} | {'ECE m/p/r':>17}"
    ]
    for target, sets in metrics.items():
        for name, r in sets.items():
            m, p, v, c = r["model"], r["persistence"], r["recent_violence"], r["climatology"]
            f = lambda x: "  - " if x is None else f"{x:.2f}"  # noqa: E731
            lines.append(
                f"{target:20} {name:14} {r['n']:6d} {r['positive_rate']:5.2f} | "
                f"{f(m['roc_auc'])}/{f(p['roc_auc'])}/{f(v['roc_auc'])} | "
                f"{f(m['pr_auc'])}/{f(p['pr_auc'])}/{f(v['pr_auc'])}/{r['positive_rate']:.2f} | "
                f"{m['brier']:.3f}/{p['brier']:.3f}/{v['brier']:.3f}/{c['brier']:.3f} | "
                f"{r['bss_vs_climatology']:+.2f}/{r['bss_vs_persistence']:+.2f}/{r['bss_vs_recent_violence']:+.2f} | "
                f"{m['ece']:.3f}/{p['ece']:.3f}/{v['ece']:.3f}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Rebuild the test samples from the data and print the bundled model's out-of-time metrics."""
    parser = argparse.ArgumentParser(prog="evaluate", description=main.__doc__)
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--model-dir", type=Path, default=REPO_ROOT / "models")
    args = parser.parse_args(argv)
    try:
        models, card, context = artifact.load(args.model_dir)
    except artifact.ArtifactError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"model {card['version']}; building samples from {args.data_dir}")
    ds = dataset.build(args.data_dir, ContextTable(context))
    metrics = evaluate(ds, models)
    print(table(metrics))
    for target, sets in metrics.items():
        for name, r in sets.items():
            print(f"reliability {target} {name} [mean p, observed, n]: {r['model']['reliability']}")
    print(f"risk levels on P({PRIMARY}): {card['thresholds']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
