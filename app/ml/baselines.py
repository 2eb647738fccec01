"""The evaluation protocol of model v3, fixed before any v3 model was fitted (issue 27): the baselines,
the best-baseline rule, the bootstrap, the bar and the rolling-origin backtest.

Nothing here may be renamed or redefined after results are seen. Each baseline is fitted per target
on its test set's own fit period, then recalibrated on that set's validation period with Platt
scaling where that lowers validation log-loss:

- `climatology`: the fit-period base rate.
- `persistence`: the target's own condition over (t-30, t] (binary), as a logistic fit (= the fit
  period's frequency of the target given that condition).
- `deaths_30d`: logistic on log1p(deaths in (t-30, t]).
- `decayed_deaths`: logistic on log1p(exponentially decayed past deaths), the half-life chosen on
  validation log-loss from HALF_LIVES.
- `deaths_and_events`: logistic on that decayed-deaths term (its chosen half-life) and
  log1p(events in (t-30, t]).
- `recent_violence`: as v2 defined it: logistic on events, log1p(deaths) and max hostility over
  the last 30 days (the features `RECENT_VIOLENCE`).

The bar is against the best baseline of each test set: the highest test ROC-AUC for the AUC
comparison, the lowest test Brier score for the Brier skill. Intervals are 90%, from resampling
whole dyads (a dyad's samples are correlated in time).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from scipy.special import expit, logit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from app.ml.features import INDEX, History
from app.ml.labels import HORIZON
from app.ml.risk_model import logistic, platt

HALF_LIVES = (7, 14, 30, 60, 90, 180, 365)
NAMES = ("climatology", "persistence", "deaths_30d", "decayed_deaths", "deaths_and_events", "recent_violence")
RECENT_VIOLENCE = ("events_30d", "log_fatalities_30d", "max_hostility_30d")
BOOTSTRAP = 500
LEVEL = 0.9
# The bar, on every test set with at least MIN_POSITIVES positives and MIN_DYADS dyads.
MIN_POSITIVES, MIN_DYADS = 30, 30
BSS_BAR, BSS_LOW_BAR, AUC_SLACK = 0.05, 0.03, 0.005
BACKTEST_YEARS = tuple(range(2008, 2018))
BACKTEST_VALIDATION_YEARS = 3  # each origin Y: validation is the 3 years before Y, fit everything before that
BINS = 10
_EPS = 1e-6


def inputs(h: History, days: np.ndarray) -> dict[str, np.ndarray]:
    """The baselines' per-sample inputs for one dyad's history at sample days (only events on or before t)."""
    t = np.asarray(days, dtype=np.int64)
    now = np.searchsorted(h.day, t, side="right")
    before = np.searchsorted(h.day, t - HORIZON, side="right")
    fat = np.concatenate([[0.0], np.cumsum(h.fatalities, dtype=np.float64)])
    out = {"deaths_30d": fat[now] - fat[before], "events_30d": (now - before).astype(np.float64)}
    uniq, which = np.unique(h.day, return_inverse=True)
    per_day = np.bincount(which, weights=h.fatalities, minlength=len(uniq)) if len(uniq) else np.zeros(0)
    last = np.searchsorted(uniq, t, side="right") - 1
    for half_life in HALF_LIVES:
        out[f"decayed_{half_life}"] = _decayed(uniq, per_day, t, last, half_life)
    return out


def _decayed(uniq: np.ndarray, per_day: np.ndarray, t: np.ndarray, last: np.ndarray, half_life: int) -> np.ndarray:
    """sum over event days d <= t of deaths(d) * 2**(-(t - d) / half_life), by the recursion over event days
    (a running sum would overflow over a two-century history)."""
    running = np.empty(len(uniq))
    decay = np.exp2(-np.diff(uniq) / half_life)
    acc = 0.0
    for k in range(len(uniq)):
        acc = (acc * decay[k - 1] if k else 0.0) + per_day[k]
        running[k] = acc
    known = last >= 0
    k = np.maximum(last, 0)
    at = running[k] if len(uniq) else np.zeros(len(t))
    return np.where(known, at * np.exp2(-(t - (uniq[k] if len(uniq) else 0)) / half_life), 0.0)


def _design(ds: Any, rows: np.ndarray, name: str, target: str, half_life: int | None) -> np.ndarray:
    """A baseline's inputs for the samples `rows` (a mask over ds)."""
    n = int(rows.sum())
    if name == "climatology":
        return np.zeros((n, 1))
    if name == "persistence":
        return ds.y_prev[target][rows].reshape(-1, 1).astype(np.float64)
    if name == "deaths_30d":
        return np.log1p(ds.base["deaths_30d"][rows]).reshape(-1, 1)
    if name == "decayed_deaths":
        return np.log1p(ds.base[f"decayed_{half_life}"][rows]).reshape(-1, 1)
    if name == "deaths_and_events":
        return np.column_stack([np.log1p(ds.base[f"decayed_{half_life}"][rows]),
                                np.log1p(ds.base["events_30d"][rows])])
    if name == "recent_violence":
        return ds.X[rows][:, [INDEX[c] for c in RECENT_VIOLENCE]]
    raise ValueError(name)


def _logistic(name: str) -> LogisticRegression:
    # recent_violence keeps v2's definition (default L2); the one- and two-input baselines are all but unpenalised.
    # Solved to convergence like the model (risk_model.CONVERGED): the same definitions, the same answer anywhere.
    return logistic() if name == "recent_violence" else logistic(C=1e6)


def _log_odds(p: np.ndarray) -> np.ndarray:
    return logit(np.clip(p, _EPS, 1 - _EPS))


def recalibrated(slope_shift: tuple[float, float], p: np.ndarray) -> np.ndarray:
    """Probabilities through Platt scaling (the model's own, `risk_model.platt`, fitted on their log-odds)."""
    slope, shift = slope_shift
    return expit(slope * _log_odds(p) + shift)


@dataclass
class Baseline:
    """One baseline fitted for one target on one test set's fit period (and maybe recalibrated on its validation)."""

    name: str
    target: str
    half_life: int | None
    model: LogisticRegression
    calibrator: tuple[float, float] | None  # Platt's (slope, shift) on the log-odds, where it was kept
    validation_log_loss: float
    tried: dict[str, float] = field(default_factory=dict)  # half-life -> validation log-loss (decayed_deaths)

    def predict(self, ds: Any, rows: np.ndarray) -> np.ndarray:
        p = self.model.predict_proba(_design(ds, rows, self.name, self.target, self.half_life))[:, 1]
        return recalibrated(self.calibrator, p) if self.calibrator is not None else p

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"platt": self.calibrator is not None,
                               "validation_log_loss": round(self.validation_log_loss, 6)}
        if self.half_life is not None:
            out["half_life_days"] = self.half_life
        if self.tried:
            out["half_lives_tried"] = self.tried
        return out


def _fit_one(ds: Any, fit: np.ndarray, val: np.ndarray, name: str, target: str,
             half_life: int | None) -> Baseline:
    y = ds.y[target]
    model = _logistic(name).fit(_design(ds, fit, name, target, half_life), y[fit])
    raw = Baseline(name, target, half_life, model, None, 0.0)
    p_val = raw.predict(ds, val)
    raw.validation_log_loss = float(log_loss(y[val], p_val, labels=[0, 1]))
    if len(np.unique(y[val])) == 2:
        calibrator = platt(_log_odds(p_val), y[val])
        loss = float(log_loss(y[val], recalibrated(calibrator, p_val), labels=[0, 1]))
        if loss < raw.validation_log_loss:
            raw.calibrator, raw.validation_log_loss = calibrator, loss
    return raw


def fit(ds: Any, target: str, fit: np.ndarray, val: np.ndarray) -> dict[str, Baseline]:
    """Every baseline for one target, fitted on the samples `fit`, half-life and Platt chosen on `val`."""
    out = {name: _fit_one(ds, fit, val, name, target, None)
           for name in ("climatology", "persistence", "deaths_30d", "recent_violence")}
    decayed = {h: _fit_one(ds, fit, val, "decayed_deaths", target, h) for h in HALF_LIVES}
    best = min(decayed.values(), key=lambda b: b.validation_log_loss)
    best.tried = {str(h): round(b.validation_log_loss, 6) for h, b in decayed.items()}
    out["decayed_deaths"] = best
    out["deaths_and_events"] = _fit_one(ds, fit, val, "deaths_and_events", target, best.half_life)
    return {name: out[name] for name in NAMES}


def fit_for_test_set(ds: Any, target: str, test_set: str) -> dict[str, Baseline]:
    mine = ds.test_set == test_set
    return fit(ds, target, (ds.split == "fit") & mine, (ds.split == "val") & mine)


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


def _ranked(p: np.ndarray) -> np.ndarray:
    """Scores for the ranking metrics: equal to 12 decimals counts as tied. Below that, two samples' order is the
    machine's rounding (a baseline's many near-equal scores came out tied on one CPU and not on another)."""
    return np.round(p, 12)


def auc(y: np.ndarray, p: np.ndarray) -> float:
    return float(roc_auc_score(y, _ranked(p)))


def scores(p: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    ece, bins = reliability(p, y)
    both = len(np.unique(y)) == 2
    return {
        "roc_auc": auc(y, p) if both else None,
        "pr_auc": float(average_precision_score(y, _ranked(p))) if both else None,
        "brier": float(brier_score_loss(y, p, labels=[0, 1])),
        "ece": ece,
        "reliability": bins,
    }


def best(baseline_scores: dict[str, dict]) -> dict[str, str]:
    """The best baseline by test ROC-AUC (for the AUC comparison) and by test Brier (for the skill)."""
    with_auc = {n: s for n, s in baseline_scores.items() if s["roc_auc"] is not None}
    by_auc = max(with_auc, key=lambda n: with_auc[n]["roc_auc"]) if with_auc else None
    by_brier = min(baseline_scores, key=lambda n: baseline_scores[n]["brier"])
    return {"by_auc": by_auc, "by_brier": by_brier}


def bootstrap(y: np.ndarray, p_model: np.ndarray, p_auc: np.ndarray, p_brier: np.ndarray, groups: np.ndarray,
              n: int = BOOTSTRAP, seed: int = 0) -> dict[str, Any]:
    """90% intervals of ROC-AUC(model) - ROC-AUC(best by AUC) and of the Brier skill against the best by Brier,
    resampling whole dyads with replacement. Seeded: deterministic."""
    rng = np.random.default_rng(seed)
    _, where = np.unique(groups, return_inverse=True)
    order = np.argsort(where, kind="stable")
    bounds = np.searchsorted(where[order], np.arange(where.max() + 2))
    k = len(bounds) - 1
    diffs, skills = [], []
    for _ in range(n):
        picked = rng.integers(0, k, k)
        take = np.concatenate([order[bounds[g]:bounds[g + 1]] for g in picked])
        yy = y[take]
        b = brier_score_loss(yy, p_brier[take], labels=[0, 1])
        skills.append(1 - brier_score_loss(yy, p_model[take], labels=[0, 1]) / b if b > 0 else 0.0)
        if yy.min() != yy.max():
            diffs.append(auc(yy, p_model[take]) - auc(yy, p_auc[take]))
    tail = (1 - LEVEL) / 2 * 100
    q = lambda v: [round(float(x), 4) for x in np.percentile(v, [tail, 100 - tail])] if v else None  # noqa: E731
    return {"auc_diff_ci90": q(diffs), "bss_ci90": q(skills), "resamples": n, "auc_resamples": len(diffs),
            "dyads": k}


def compare(y: np.ndarray, p_model: np.ndarray, p_base: dict[str, np.ndarray], groups: np.ndarray,
            with_intervals: bool = True) -> dict[str, Any]:
    """The card's entry for one test set (or subset): every baseline's scores, the best, the model against it."""
    base_scores = {name: scores(p, y) for name, p in p_base.items()}
    model = scores(p_model, y)
    chosen = best(base_scores)
    positives, dyads = int(y.sum()), int(len(np.unique(groups)))
    out: dict[str, Any] = {
        "n": int(len(y)), "positives": positives, "dyads": dyads, "positive_rate": float(y.mean()) if len(y) else None,
        "model": model, "baselines": base_scores, "best_baseline": chosen,
        "auc_diff_vs_best": {"value": (model["roc_auc"] - base_scores[chosen["by_auc"]]["roc_auc"])
                             if chosen["by_auc"] and model["roc_auc"] is not None else None, "ci90": None},
        "bss_vs_best": {"value": 1 - model["brier"] / base_scores[chosen["by_brier"]]["brier"]
                        if base_scores[chosen["by_brier"]]["brier"] > 0 else None, "ci90": None},
        "claimed": positives >= MIN_POSITIVES and dyads >= MIN_DYADS,
    }
    if with_intervals and len(y) and chosen["by_auc"]:
        ci = bootstrap(y, p_model, p_base[chosen["by_auc"]], p_base[chosen["by_brier"]], groups)
        out["auc_diff_vs_best"]["ci90"], out["bss_vs_best"]["ci90"] = ci["auc_diff_ci90"], ci["bss_ci90"]
        out["bootstrap"] = {k: ci[k] for k in ("resamples", "auc_resamples", "dyads")}
    out["bar"] = verdict(out) if with_intervals else "not judged (the bar is for the primary target)"
    return out


def verdict(entry: dict[str, Any]) -> str:
    """'met', 'missed: ...' or 'not claimed' (too few positives or dyads to claim anything)."""
    if not entry["claimed"]:
        return "not claimed"
    bss, auc = entry["bss_vs_best"], entry["auc_diff_vs_best"]
    misses = []
    if bss["value"] is None or bss["value"] < BSS_BAR:
        misses.append(f"Brier skill {_signed(bss['value'], '.3f')} < {BSS_BAR}")
    low = (bss["ci90"] or [None])[0]
    if low is None or low < BSS_LOW_BAR:
        misses.append(f"its ci90 low {low} < {BSS_LOW_BAR}")
    if auc["value"] is None or auc["value"] < -AUC_SLACK:
        misses.append(f"AUC {_signed(auc['value'], '.4f')} below the best baseline's by more than {AUC_SLACK}")
    return "met" if not misses else "missed: " + "; ".join(misses)


def _signed(value: float | None, fmt: str) -> str:
    return "undefined" if value is None else format(value, "+" + fmt)


def backtest(ds: Any, target: str, training_sets: tuple[str, ...],
             fit_model: Callable[[np.ndarray, np.ndarray], Callable[[np.ndarray], np.ndarray]],
             log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Rolling origin: for each year Y, the model (by `fit_model(fit, val)`, the same settings procedure as the
    shipped one) and the baselines are fitted on samples before Y (validation: the 3 years before Y), then tested
    on the samples dated in Y; per training set, the Brier skill against the best baseline of that year."""
    out = []
    for year in BACKTEST_YEARS:
        start = date(year, 1, 1).toordinal()
        val_start = date(year - BACKTEST_VALIDATION_YEARS, 1, 1).toordinal()
        trains = np.isin(ds.test_set, training_sets)
        fit_rows = trains & (ds.day + HORIZON < val_start)
        val = trains & (ds.day >= val_start) & (ds.day + HORIZON < start)
        test = trains & (ds.day >= start) & (ds.day < date(year + 1, 1, 1).toordinal())
        predict = fit_model(fit_rows, val)
        for test_set in training_sets:
            mine = ds.test_set == test_set
            rows = test & mine
            if not rows.any():
                continue
            y = ds.y[target][rows]
            fitted = fit(ds, target, fit_rows & mine, val & mine)
            base = {name: scores(b.predict(ds, rows), y) for name, b in fitted.items()}
            chosen = best(base)["by_brier"]
            model = scores(predict(rows), y)
            bss = 1 - model["brier"] / base[chosen]["brier"] if base[chosen]["brier"] > 0 else None
            out.append({"year": year, "test_set": test_set, "n": int(rows.sum()), "positives": int(y.sum()),
                        "best_baseline": chosen, "brier_model": model["brier"], "brier_best": base[chosen]["brier"],
                        "bss_vs_best": bss})
            log(f"  backtest {year} {test_set}: n {rows.sum()}, positives {int(y.sum())}, best {chosen}, "
                f"BSS {bss if bss is None else round(bss, 4)}")
    return out

