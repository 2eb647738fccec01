"""Out-of-time evaluation: model vs climatology vs persistence, per target and test set; risk level cut-offs.

Climatology is the fit-period base rate of the test set's source; persistence is a logistic
regression on recent violence only (events, log fatalities and max hostility over 30 days), fit
on the same fit period. Metrics use the test period only.
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

PERSISTENCE = ("events_30d", "log_fatalities_30d", "max_hostility_30d")
TEST_SETS = ("mie_interstate", "ged")
# P(at least 25 deaths within 30 days) at which a level starts: 1 in 20, 1 in 5, even odds.
LEVEL_CUTS = {"elevated": 0.05, "high": 0.2, "critical": 0.5}
BINS = 10


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


def persistence_model(ds: dataset.Dataset, target: str, test_set: str) -> LogisticRegression:
    rows = (ds.split == "fit") & (ds.test_set == test_set)
    cols = [INDEX[c] for c in PERSISTENCE]
    return LogisticRegression(max_iter=1000).fit(ds.X[rows][:, cols], ds.y[target][rows])


def persistence_proba(ds: dataset.Dataset, target: str, test_set: str, X: np.ndarray) -> np.ndarray:
    return persistence_model(ds, target, test_set).predict_proba(X[:, [INDEX[c] for c in PERSISTENCE]])[:, 1]


def evaluate(ds: dataset.Dataset, models: dict[str, Any]) -> dict[str, dict[str, dict]]:
    """metrics[target][test_set] = {n, base_rate, model, climatology, persistence, skill scores}."""
    cols = [INDEX[c] for c in PERSISTENCE]
    out: dict[str, dict[str, dict]] = {}
    for target in TARGETS:
        out[target] = {}
        for test_set in TEST_SETS:
            test = (ds.split == "test") & (ds.test_set == test_set)
            y = ds.y[target][test]
            rate = float(ds.y[target][(ds.split == "fit") & (ds.test_set == test_set)].mean())
            p_model = models[target].predict_proba(ds.X[test])[:, 1]
            p_pers = persistence_model(ds, target, test_set).predict_proba(ds.X[test][:, cols])[:, 1]
            res = {
                "n": int(test.sum()),
                "positive_rate": float(y.mean()),
                "fit_base_rate": rate,
                "model": scores(p_model, y),
                "climatology": scores(np.full(y.shape, rate), y),
                "persistence": scores(p_pers, y),
            }
            for base in ("climatology", "persistence"):
                res[f"bss_vs_{base}"] = 1 - res["model"]["brier"] / res[base]["brier"]
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
    """The metric table as plain text."""
    lines = [
        f"{'target':18} {'test set':15} {'n':>6} {'rate':>5} | {'ROC-AUC m/p':>11} | {'PR-AUC m/p/c':>14} | "
        f"{'Brier m/p/c':>17} | {'BSS vs c/p':>11} | {'ECE m/p':>9}"
    ]
    for target, sets in metrics.items():
        for name, r in sets.items():
            m, p, c = r["model"], r["persistence"], r["climatology"]
            f = lambda v: "  - " if v is None else f"{v:.2f}"  # noqa: E731
            lines.append(
                f"{target:18} {name:15} {r['n']:6d} {r['positive_rate']:5.2f} | "
                f"{f(m['roc_auc'])}/{f(p['roc_auc'])}   | {f(m['pr_auc'])}/{f(p['pr_auc'])}/{r['positive_rate']:.2f} | "
                f"{m['brier']:.3f}/{p['brier']:.3f}/{c['brier']:.3f} | "
                f"{r['bss_vs_climatology']:+.2f}/{r['bss_vs_persistence']:+.2f} | {m['ece']:.3f}/{p['ece']:.3f}"
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
