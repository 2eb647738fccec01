"""Out-of-time evaluation: the model against the fixed baselines of `app.ml.baselines`, per target and test set.

Each test set's baselines are fitted on that set's own fit period and recalibrated on its validation
period (baselines.py says how). Metrics use the test period only; the primary target's comparisons
with the best baseline carry 90% dyad-bootstrap intervals. Interstate dyads are reported separately
on every set where they occur. Risk level cut-offs are set here too.
"""

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from app.config import REPO_ROOT
from app.ml import artifact, baselines, dataset
from app.ml.context import ContextTable
from app.ml.labels import PRIMARY, TARGETS

TEST_SETS = dataset.TEST_SETS
# P(at least 25 deaths within 30 days) at which a level starts: 1 in 20, 1 in 5, even odds.
LEVEL_CUTS = {"elevated": 0.05, "high": 0.2, "critical": 0.5}
INTERSTATE = "state_state"


Fitted = dict[str, dict[str, dict[str, baselines.Baseline]]]  # target -> test set -> name -> baseline


def fit_baselines(ds: dataset.Dataset) -> Fitted:
    """Every baseline of every target, each on its own test set's fit period: fitted once, read by the
    evaluation of each family and by the episode benchmarks."""
    return {target: {test_set: baselines.fit_for_test_set(ds, target, test_set) for test_set in TEST_SETS}
            for target in TARGETS}


def baseline_probas(ds: dataset.Dataset, fitted: dict[str, dict[str, baselines.Baseline]]
                    ) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
    """Every baseline's probability for every sample of ds, each from its own test set's fit (`fitted`, one
    target's), and the fitted settings per test set."""
    out = {name: np.zeros(len(ds.X)) for name in baselines.NAMES}
    settings: dict[str, dict] = {}
    for test_set in TEST_SETS:
        rows = ds.test_set == test_set
        settings[test_set] = {name: b.describe() for name, b in fitted[test_set].items()}
        for name, b in fitted[test_set].items():
            out[name][rows] = b.predict(ds, rows)
    return out, settings


def interval_check(p: np.ndarray, low: np.ndarray, high: np.ndarray, y: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """The intervals against outcomes, by equal-width bins of P: per bin [mean P, mean low, mean high, observed
    rate, n, observed inside]; the share of bins (and of samples) whose observed rate is inside its bin's mean
    interval; the mean width."""
    which = np.minimum((p * bins).astype(int), bins - 1)
    rows, inside_n = [], 0
    for b in range(bins):
        m = which == b
        if not m.any():
            continue
        rate, lo, hi = float(y[m].mean()), float(low[m].mean()), float(high[m].mean())
        inside = lo <= rate <= hi
        inside_n += int(m.sum()) * inside
        rows.append([round(float(p[m].mean()), 4), round(lo, 4), round(hi, 4), round(rate, 4), int(m.sum()), inside])
    return {"bins": rows, "bins_inside": round(sum(r[5] for r in rows) / len(rows), 4) if rows else None,
            "samples_in_bins_inside": round(inside_n / len(y), 4) if len(y) else None,
            "mean_width": round(float((high - low).mean()), 4) if len(y) else None}


def evaluate(ds: dataset.Dataset, models: dict[str, Any], fitted: Fitted | None = None) -> dict[str, dict[str, dict]]:
    """metrics[target][test_set] = baselines.compare(...) with the baselines' settings and the interstate subset
    (`fitted`: the baselines, when the caller has them already)."""
    fitted = fitted or fit_baselines(ds)
    out: dict[str, dict[str, dict]] = {}
    for target in TARGETS:
        out[target] = {}
        p_base, settings = baseline_probas(ds, fitted[target])
        p_model = models[target].predict_proba(ds.X)[:, 1]
        for test_set in TEST_SETS:
            test = (ds.split == "test") & (ds.test_set == test_set)
            y = ds.y[target]
            primary = target == PRIMARY
            res = baselines.compare(y[test], p_model[test], {k: v[test] for k, v in p_base.items()},
                                    ds.dyad[test], with_intervals=primary)
            res["fit_base_rate"] = float(y[(ds.split == "fit") & (ds.test_set == test_set)].mean())
            res["baseline_settings"] = settings[test_set]
            inter = test & (ds.kind == INTERSTATE)
            if inter.any() and test_set != "mie_interstate":  # mie_interstate is all interstate
                res["interstate"] = baselines.compare(y[inter], p_model[inter],
                                                      {k: v[inter] for k, v in p_base.items()}, ds.dyad[inter],
                                                      with_intervals=primary)
            if primary and hasattr(models[target], "interval"):
                for rows, entry in ((test, res), (inter, res.get("interstate"))):
                    if entry is not None and rows.any():
                        low, high = models[target].interval(ds.X[rows], p_model[rows])
                        entry["intervals"] = interval_check(p_model[rows], low, high, y[rows])
            out[target][test_set] = res
    return out


def thresholds(p_val: np.ndarray, y_val: np.ndarray, interstate: np.ndarray | None = None) -> dict[str, dict]:
    """Level cut-offs on P(primary), fixed in probability (the model is calibrated: ECE in the card), with the
    validation precision and support each cut-off reaches, so a reader sees what a level meant there; with
    `interstate` (a mask), the same per dyad kind (`by_kind`)."""
    def at(cut: float, mask: np.ndarray) -> dict[str, float | int | None]:
        above = mask & (p_val >= cut)
        return {"validation_precision": round(float(y_val[above].mean()), 4) if above.any() else None,
                "validation_support": int(above.sum())}

    everything = np.ones(len(p_val), dtype=bool)
    out = {}
    for level, cut in LEVEL_CUTS.items():
        out[level] = {"cut": cut, **at(cut, everything)}
        if interstate is not None:
            out[level]["by_kind"] = {"interstate": at(cut, interstate), "other": at(cut, ~interstate)}
    return out


def table(metrics: dict) -> str:
    """The metric table as plain text: the model, the best baseline by AUC and by Brier, the comparisons."""
    lines = [f"{'target':20} {'test set':14} {'n':>6} {'pos':>5} | {'AUC model/best':>14} {'best by AUC':>17} | "
             f"{'Brier model/best':>17} {'best by Brier':>17} | {'BSS vs best':>11} | bar"]
    f = lambda x: "  - " if x is None else f"{x:.3f}"  # noqa: E731
    for target, sets in metrics.items():
        for name, r in sets.items():
            b = r["best_baseline"]
            auc_b = r["baselines"][b["by_auc"]]["roc_auc"] if b["by_auc"] else None
            bss = r["bss_vs_best"]["value"]
            lines.append(
                f"{target:20} {name:14} {r['n']:6d} {r['positives']:5d} | {f(r['model']['roc_auc'])}/{f(auc_b)} "
                f"{str(b['by_auc']):>17} | {r['model']['brier']:.4f}/{r['baselines'][b['by_brier']]['brier']:.4f} "
                f"{b['by_brier']:>17} | {'-' if bss is None else f'{bss:+.3f}':>11} | {r['bar']}")
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
    for name, r in metrics[PRIMARY].items():
        print(f"reliability {PRIMARY} {name} [mean p, observed, n]: {r['model']['reliability']}")
    print(f"risk levels on P({PRIMARY}): {card['thresholds']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
