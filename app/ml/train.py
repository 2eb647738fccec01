"""Reproduce the bundled model from ../shared/data: samples, two families compared, calibration, evaluation.

Settings and the shipped family are chosen on the validation period only (log-loss); the test
periods are touched once, for the card's metrics. Deterministic: one thread, fixed seeds.
`.venv/bin/python -m app.ml.train [--data-dir DIR] [--model-dir DIR]`.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from scipy.linalg import LinAlgWarning
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from threadpoolctl import threadpool_limits

from app.config import REPO_ROOT
from app.ml import artifact, baselines, dataset, evaluate, explain, families, findings, model_card, risk_model
from app.ml.context import ContextTable, build_table
from app.ml.features import INDEX
from app.ml.labels import PRIMARY, TARGETS

# The simpler (additive) family ships unless boosting's validation log-loss on the primary target
# is lower by more than this fraction: simple models often match complex ones in this field.
BOOSTING_MARGIN = 0.02


def _weights(ds: dataset.Dataset, rows: np.ndarray, ged_weight: float) -> np.ndarray:
    """Sample weights of the fit rows: GED samples count `ged_weight` times an interstate (MIE) sample."""
    return np.where(ds.test_set[rows] == "mie_interstate", 1.0, ged_weight)


def periods(ds: dataset.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """The model's fit and validation samples: those of the sources that train (the others are test sets only)."""
    trains = np.isin(ds.test_set, dataset.TRAINING_SETS)
    return trains & (ds.split == "fit"), trains & (ds.split == "val")


def _select(candidates: list[tuple[Any, Any]], ds: dataset.Dataset, y: np.ndarray,
            fit: np.ndarray, val: np.ndarray) -> tuple[Any, float, list, dict]:
    """Fit each (setting, estimator) on `fit`; keep the lowest log-loss on `val`."""
    tried = []
    for setting, model in candidates:
        if "ged_weight" in setting:
            model.fit(ds.X[fit], y[fit], logit__sample_weight=_weights(ds, fit, setting["ged_weight"]))
        else:
            model.fit(ds.X[fit], y[fit])
        tried.append((float(log_loss(y[val], model.predict_proba(ds.X[val])[:, 1])), setting, model))
    loss, setting, model = min(tried, key=lambda t: t[0])
    return model, loss, [[round(t[0], 5), t[1]] for t in tried], setting


def _candidates(family: str) -> list[tuple[dict, Any]]:
    if family == "additive":
        return [({"C": c, "ged_weight": w}, families.additive(c))
                for c in families.ADDITIVE_C for w in families.GED_WEIGHTS]
    return [(p, families.boosting(p)) for p in families.BOOSTING_GRID]


def fit_target(ds: dataset.Dataset, family: str, target: str, fit: np.ndarray, val: np.ndarray,
               intervals: bool = False) -> tuple[Any, float, list]:
    """The settings procedure for one target: each candidate fitted on `fit`, the best by log-loss on `val`,
    then calibrated on `val` (the additive family per dyad kind; with `intervals`, its interval draws too)."""
    y = ds.y[target]
    model, loss, tried, setting = _select(_candidates(family), ds, y, fit, val)
    if family != "additive":
        return families.calibrate(model, ds.X[val], y[val]), loss, tried
    risk = families.shipped(model, ds.X[val], y[val])
    if intervals:
        design = model.named_steps["design"]
        risk.fit_intervals(design.transform(ds.X[fit]), y[fit], _weights(ds, fit, setting["ged_weight"]), ds.dyad[fit],
                           ds.X[val], design.transform(ds.X[val]), y[val], ds.dyad[val], C=setting["C"])
    return risk, loss, tried


def fit_family(ds: dataset.Dataset, family: str, log) -> tuple[dict[str, Any], dict]:
    """Per target: settings by validation log-loss, then Platt calibration on validation."""
    fit, val = periods(ds)
    models, selection = {}, {}
    for target in TARGETS:
        models[target], loss, tried = fit_target(ds, family, target, fit, val, intervals=target == PRIMARY)
        selection[target] = {"validation_log_loss": loss, "tried": tried}
        log(f"  {family} {target}: validation log-loss {loss:.4f} ({tried})")
    return models, selection


def kind_split_check(ds: dataset.Dataset, setting: dict) -> dict[str, float]:
    """Validation log-loss (uncalibrated) on the primary target: the one additive model with kind flags against
    separate additive fits for interstate (kind_state_state) and all other dyads, with the chosen setting."""
    y, (fit, val) = ds.y[PRIMARY], periods(ds)
    interstate = ds.X[:, INDEX[families.GROUP_FEATURE]] > 0
    p_one, p_split = np.zeros(len(y)), np.zeros(len(y))
    one = families.additive(setting["C"]).fit(
        ds.X[fit], y[fit], logit__sample_weight=_weights(ds, fit, setting["ged_weight"]))
    p_one[val] = one.predict_proba(ds.X[val])[:, 1]
    for part in (interstate, ~interstate):
        # the same sample weights as the one model: sklearn's C scales the weighted loss, so unweighted
        # separate fits would be regularised differently and the comparison unfair
        model = families.additive(setting["C"]).fit(
            ds.X[fit & part], y[fit & part], logit__sample_weight=_weights(ds, fit & part, setting["ged_weight"]))
        p_split[val & part] = model.predict_proba(ds.X[val & part])[:, 1]
    return {"one_model": float(log_loss(y[val], p_one[val])),
            "separate_by_kind": float(log_loss(y[val], p_split[val]))}


# Inputs added to v3 one group at a time, each measured on validation before it stayed (additions_check).
ADDITIONS: dict[str, tuple[str, ...]] = {
    "contagion": explain.THEMES["contagion"],  # v3.2: the members' other fronts (app.ml.fronts)
    "deadliness": ("log_max_event_deaths_365d", "log_deaths_per_fatal_event_365d"),  # v3.3: how deadly events are
}
assert all(name in INDEX for names in ADDITIONS.values() for name in names), "every addition is a feature"


def additions_check(ds: dataset.Dataset, setting: dict) -> dict:
    """Validation log-loss (uncalibrated) on the primary target with the chosen setting: with every feature, and
    without each group of ADDITIONS in turn: what each group adds, measured on validation before it stays."""
    y, (fit, val) = ds.y[PRIMARY], periods(ds)

    def loss(without: tuple[str, ...]) -> float:
        model = families.additive(setting["C"], without).fit(
            ds.X[fit], y[fit], logit__sample_weight=_weights(ds, fit, setting["ged_weight"]))
        return float(log_loss(y[val], model.predict_proba(ds.X[val])[:, 1]))

    return {"with_all": loss(()), "without": {name: loss(features) for name, features in ADDITIONS.items()}}


def calibration_check(ds: dataset.Dataset, model) -> dict[str, float]:
    """Validation log-loss of the primary target: Platt scaling per dyad kind (shipped) against one for all."""
    _, val = periods(ds)
    X, y = ds.X[val], ds.y[PRIMARY][val]
    a, b = risk_model.platt(model.raw_log_odds(X), y)
    return {"one_calibration": float(log_loss(y, expit(a * model.raw_log_odds(X) + b))),
            "per_kind": float(log_loss(y, model.proba(X)))}


def _predictor(ds: dataset.Dataset, fit: np.ndarray, val: np.ndarray):
    """The shipped family's settings procedure on other periods (the backtest): a predictor over sample masks."""
    model, _, _ = fit_target(ds, "additive", PRIMARY, fit, val)
    return lambda rows: model.predict_proba(ds.X[rows])[:, 1]


def main(argv: list[str] | None = None) -> int:
    """Train, evaluate and save the escalation model."""
    parser = argparse.ArgumentParser(prog="train", description=main.__doc__)
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--model-dir", type=Path, default=REPO_ROOT / "models")
    parser.add_argument("--families", choices=("both", "additive"), default="both",
                        help="'additive' skips the boosting comparison (the shipped model is the same)")
    parser.add_argument("--no-backtest", action="store_true",
                        help="skip the rolling-origin backtest (the card keeps none; the shipped model is the same)")
    args = parser.parse_args(argv)
    # A fit that does not converge, or falls back from Newton steps, stops the run: its card would not be
    # reproducible on another machine (risk_model.CONVERGED).
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("error", LinAlgWarning)
        return _train(args, argv)


def _train(args: argparse.Namespace, argv: list[str] | None) -> int:
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
    fitted, selections, metrics = {}, {}, {}
    with threadpool_limits(limits=1):  # OpenMP threads spin badly on a shared 2-core machine; one is steadier
        fitted_baselines = evaluate.fit_baselines(ds)  # once: every family's evaluation and the episodes read them
        for family in ("additive", "boosting") if args.families == "both" else ("additive",):
            fitted[family], selections[family] = fit_family(ds, family, log)
            metrics[family] = evaluate.evaluate(ds, fitted[family], fitted_baselines)
            print(f"{family}:\n{evaluate.table(metrics[family])}")
    losses = {f: selections[f][PRIMARY]["validation_log_loss"] for f in fitted}
    boosting = losses.get("boosting", float("inf"))
    shipped = "boosting" if boosting < (1 - BOOSTING_MARGIN) * losses["additive"] else "additive"
    if shipped != "additive":
        log("boosting wins on validation by more than the margin, but only the additive family has exact terms")
        return 3
    models = fitted[shipped]
    chosen = min(selections[shipped][PRIMARY]["tried"], key=lambda t: t[0])[1]
    with threadpool_limits(limits=1):
        kind_split = kind_split_check(ds, chosen)
        additions = additions_check(ds, chosen)
    log(f"  one model vs separate by kind, validation log-loss: {kind_split}; additions: {additions}")
    reference = families.reference_terms(models[PRIMARY])
    contributions = families.Decomposer(models[PRIMARY], reference).contributions(ds.X)
    p_model = models[PRIMARY].predict_proba(ds.X)[:, 1]
    _, val = periods(ds)
    backtest = None
    if not args.no_backtest:
        log("rolling-origin backtest")
        with threadpool_limits(limits=1):
            backtest = baselines.backtest(ds, PRIMARY, dataset.TRAINING_SETS,
                                          lambda fit, v: _predictor(ds, fit, v), log)
    episodes = findings.episodes(ds, p_model, evaluate.baseline_probas(ds, fitted_baselines[PRIMARY])[0])
    episodes.update(findings.icb_v15_episodes(args.data_dir, table, models[PRIMARY],
                                              fitted_baselines[PRIMARY]["ged_global"]))
    card = model_card.build(
        argv=argv, data_dir=args.data_dir, ds=ds, metrics=metrics, selections=selections, shipped=shipped,
        losses=losses, margin=BOOSTING_MARGIN, term_reference=reference, kind_split=kind_split, additions=additions,
        findings=findings.measure(ds, contributions), backtest=backtest,
        calibration_check=calibration_check(ds, models[PRIMARY]),
        episodes=episodes,
        thresholds=evaluate.thresholds(p_model[val], ds.y[PRIMARY][val], ds.kind[val] == evaluate.INTERSTATE),
    )
    card = artifact.save(models, card, args.model_dir)
    (args.model_dir / "MODEL_CARD.md").write_text(model_card.render(card))
    log(f"saved {card['version']} ({card['artifact']['bytes'] / 1e6:.2f} MB) to {args.model_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
