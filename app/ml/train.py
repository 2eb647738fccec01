"""Reproduce the bundled model from ../shared/data: samples, per-target fit, calibration, evaluation, artifact.

Settings are chosen on the validation period only (log-loss); the test period is touched once,
for the card's metrics. `.venv/bin/python -m app.ml.train [--data-dir DIR] [--model-dir DIR]`.
"""

import argparse
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import skops
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import log_loss
from threadpoolctl import threadpool_limits

from app.config import REPO_ROOT
from app.ml import artifact, dataset, evaluate, model_card
from app.ml.context import ContextTable, build_table
from app.ml.features import FEATURE_NAMES
from app.ml.labels import DEFINITIONS, PRIMARY, TARGETS

# Signs where the literature supports them (see MONOTONIC_WHY); everything else is left free.
MONOTONIC: dict[str, int] = {
    "days_since_last": -1,
    "responses_30d": 1,
    "tit_for_tat_chain_30d": 1,
    "contiguous": 1,
    "rivalry": 1,
}
MONOTONIC_WHY = {
    "days_since_last": "risk decays as a dyad stays quiet (temporal dependence: Beck, Katz & Tucker 1998)",
    "responses_30d/tit_for_tat_chain_30d": "reciprocated, tit-for-tat exchanges escalate more "
    "often than one-sided ones (Leng 1993; Braithwaite & Lemke 2011)",
    "contiguous": "contiguity raises escalation risk (Senese & Vasquez 2008, The Steps to War)",
    "rivalry": "strategic rivals escalate more (Diehl & Goertz 2000; Thompson & Dreyer 2012)",
}
# At most 100 trees per target: predict costs ~5 us per tree per call, and one dyad must score in < 5 ms.
GRID = (
    {"learning_rate": 0.1, "max_leaf_nodes": 15, "max_iter": 100},
    {"learning_rate": 0.1, "max_leaf_nodes": 31, "max_iter": 100, "min_samples_leaf": 50},
    {"learning_rate": 0.05, "max_leaf_nodes": 31, "max_iter": 100, "min_samples_leaf": 100},
)
CONTEXT_FILES = [f"peacesciencer/{n}.csv" for n in ("cow_contdir", "td_rivalries", "tss_rivalries", "cow_majors")]


def _fit(params: dict, X: np.ndarray, y: np.ndarray) -> HistGradientBoostingClassifier:
    cst = [MONOTONIC.get(name, 0) for name in FEATURE_NAMES]
    model = HistGradientBoostingClassifier(
        **params, early_stopping=False, monotonic_cst=cst, l2_regularization=1.0, random_state=0
    )
    return model.fit(X, y)


def fit_target(ds: dataset.Dataset, target: str, log) -> tuple[Any, dict]:
    """Pick settings by validation log-loss, then calibrate the chosen model (sigmoid) on validation."""
    fit, val = ds.split == "fit", ds.split == "val"
    y = ds.y[target]
    tried = []
    for params in GRID:
        model = _fit(params, ds.X[fit], y[fit])
        loss = log_loss(y[val], model.predict_proba(ds.X[val])[:, 1])
        tried.append((loss, params, model))
        log(f"  {target}: {params} validation log-loss {loss:.4f}")
    loss, params, model = min(tried, key=lambda t: t[0])
    # sigmoid keeps the boosted model's ranking strict; isotonic steps would tie neighbouring dyads
    calibrated = CalibratedClassifierCV(FrozenEstimator(model), method="sigmoid").fit(ds.X[val], y[val])
    return calibrated, {"params": params, "validation_log_loss": loss, "tried": [[t[0], t[1]] for t in tried]}


def main(argv: list[str] | None = None) -> int:
    """Train, evaluate and save the escalation model."""
    parser = argparse.ArgumentParser(prog="train", description=main.__doc__)
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--model-dir", type=Path, default=REPO_ROOT / "models")
    args = parser.parse_args(argv)
    if not (args.data_dir / "mie-1.0").is_dir():
        print(f"error: no training data in {args.data_dir}", file=sys.stderr)
        return 2
    started = time.time()
    log = lambda msg: print(f"[{time.time() - started:6.1f}s] {msg}", flush=True)  # noqa: E731
    log("building context table")
    table = ContextTable(build_table(args.data_dir))
    args.model_dir.mkdir(parents=True, exist_ok=True)
    table.save(args.model_dir / artifact.CONTEXT)
    log("building samples")
    ds = dataset.build(args.data_dir, table, log=log)
    models, selection = {}, {}
    with threadpool_limits(limits=1):  # OpenMP threads spin badly on a shared 2-core machine; one is steadier
        for target in TARGETS:
            models[target], selection[target] = fit_target(ds, target, log)
    log("evaluating on the out-of-time test periods")
    metrics = evaluate.evaluate(ds, models)
    print(evaluate.table(metrics))
    val = ds.split == "val"
    p_val = models[PRIMARY].predict_proba(ds.X[val])[:, 1]
    base = float(ds.y[PRIMARY][ds.split == "fit"].mean())
    card = {
        "name": "escalation-risk",
        "trained_on": datetime.now(UTC).strftime("%Y%m%d"),
        "training_command": ".venv/bin/python -m app.ml.train" + (" " + " ".join(argv) if argv else ""),
        "data_files": {f: artifact.sha256(args.data_dir / f) for f in ds.files + CONTEXT_FILES},
        "libraries": {
            "python": platform.python_version(),
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
            "skops": skops.__version__,
        },
        "features": list(FEATURE_NAMES),
        "monotonic_constraints": MONOTONIC,
        "monotonic_rationale": MONOTONIC_WHY,
        "targets": list(TARGETS),
        "primary": PRIMARY,
        "target_definitions": DEFINITIONS,
        "estimator": "per target: HistGradientBoostingClassifier (one model for all dyad kinds, kind one-hot) "
        "calibrated with CalibratedClassifierCV(FrozenEstimator, method='sigmoid') on the validation period",
        "selection": selection,
        "splits": {
            s.name: {
                "fit": f"<= {s.fit_end}",
                "validate": f"{s.fit_end + 1}-{s.val_end}",
                "test": f"{s.val_end + 1}-01-01 to {s.coverage_end.isoformat()}",
                "file": s.path,
            }
            for s in dataset.SOURCES
        },
        "embargo_days": 30,
        "samples": {
            f"{t}/{s}": int(((ds.test_set == t) & (ds.split == s)).sum())
            for t in evaluate.TEST_SETS
            for s in ("fit", "val", "test")
        },
        "skipped_rows": ds.skipped,
        "metrics": metrics,
        "thresholds": evaluate.thresholds(p_val, ds.y[PRIMARY][val], base),
        "reference_values": [float(v) for v in np.median(ds.X[ds.split == "fit"], axis=0)],
        "drivers_method": model_card.DRIVERS_METHOD,
        "citations": model_card.CITATIONS,
    }
    card = artifact.save(models, card, args.model_dir)
    (args.model_dir / "MODEL_CARD.md").write_text(model_card.render(card))
    log(f"saved {card['version']} ({card['artifact']['bytes'] / 1e6:.2f} MB) to {args.model_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
