"""The shipped model as one fitted object: its learnt terms, calibration by dyad kind and interval draws, all set
at fit and saved in the skops file as plain arrays, so loading reads no scikit-learn internals.

`AdditiveRisk.from_pipeline` reads a fitted additive pipeline (app.ml.families.additive) once, at training:
per smooth feature the B-spline of its term over asinh(x), clipped to the fit range (extrapolation="constant"
is the boundary value of every basis function); per flag its weight; the intercept. Calibration is Platt
scaling (affine in log-odds) fitted on validation separately for interstate dyads (kind_state_state) and the
others, so the calibrated log-odds stay a sum of one term per feature: an explanation is exact.

Intervals: `fit_intervals` refits the logistic layer (the spline design held fixed) on DRAWS bootstrap
samples of the fit period's dyads, and each draw's calibration on a bootstrap sample of the validation
period's dyads; a probability's interval is the central LEVEL share of its draws' probabilities, widened to
contain the probability itself. It measures how much the answer rests on which dyads happened to be in the
data: wide where few similar dyads were seen (rare kinds, structural ties, extreme histories), narrow where
many were. It does not cover the noise of a single outcome; the model card checks it on the test sets.
"""

from typing import Any
from weakref import WeakKeyDictionary

import numpy as np
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

INTERSTATE, OTHER = "interstate", "other"
GROUPS = (INTERSTATE, OTHER)
DRAWS = 20
LEVEL = 0.9
# Per loaded model, its knots as arrays over all features, built on first use: kept beside the object, not in it,
# so the skops file holds plain arrays only.
_GRIDS: "WeakKeyDictionary[AdditiveRisk, dict]" = WeakKeyDictionary()
_CHUNK = 4096  # rows whose interval draws are summed at once (~4096 x 28 x 4 x 20 floats)


def sum_last(a: np.ndarray) -> np.ndarray:
    """`a.sum(axis=-1)`, added in column order whatever the shape: a row then gets the same bits alone or in a
    batch, which numpy's sum does not promise (pairwise, unrolled or plain, as its iterator decides). A running
    sum is sequential by definition, and one call."""
    return np.cumsum(a, axis=-1)[..., -1]


# Every logistic fit runs to convergence (Newton steps, to a gradient of 1e-8), not to lbfgs's default tolerance
# (1e-4): stopped early, a fit lands where the machine's floating-point order takes it (BLAS kernels differ by
# CPU), and a retrain on another machine gave another model. Converged, the solution is unique (the objective is
# strictly convex) and a retrain reproduces the card on any machine (tests/ml/test_train.py). Newton-Cholesky
# suits these fits: many rows, a few hundred columns at most.
CONVERGED = {"solver": "newton-cholesky", "tol": 1e-8, "max_iter": 200}


def logistic(C: float = 1.0) -> LogisticRegression:
    return LogisticRegression(C=C, **CONVERGED)


def platt(z: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, float]:
    """(slope, shift) of Platt scaling on log-odds z: p = expit(slope * z + shift)."""
    if len(np.unique(y)) < 2:  # one class only: keep the log-odds, shift by nothing (nothing to learn from)
        return 1.0, 0.0
    lr = logistic(C=1e6).fit(z.reshape(-1, 1), y, sample_weight=weights)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


class AdditiveRisk:
    """A calibrated additive risk model for one target (see the module's docstring)."""

    def __init__(self) -> None:
        self.draws: dict[str, np.ndarray] | None = None

    # ---- construction (training only)

    @classmethod
    def from_pipeline(cls, pipeline: Any, feature_names: list[str], smooth: list[str], flags: list[str],
                      degree: int, group_feature: str) -> "AdditiveRisk":
        """The terms of a fitted `families.additive` pipeline (uncalibrated: call `calibrate` next)."""
        self = cls()
        design, logit = pipeline.named_steps["design"], pipeline.named_steps["logit"]
        spline = design.named_transformers_["smooth"].steps[-1][1]
        index = {n: i for i, n in enumerate(feature_names)}
        n_basis = spline.n_features_out_ // len(smooth)
        coef = logit.coef_[0]
        self.feature_names = list(feature_names)
        self.degree = degree
        self.smooth_columns = np.array([index[n] for n in smooth], dtype=np.int64)
        self.knots = np.array([spline.bsplines_[k].t for k in range(len(smooth))])
        self.spline_coef = coef[:len(smooth) * n_basis].reshape(len(smooth), n_basis)
        # a feature constant in the fit data has a constant term: its basis at the one value seen
        self.basis_at_fit_value = spline.transform(np.zeros((1, len(smooth))))[0].reshape(len(smooth), n_basis)
        self.flag_columns = np.array([index[n] for n in flags], dtype=np.int64)
        self.flag_coef = coef[len(smooth) * n_basis:].copy()
        self.intercept = float(logit.intercept_[0])
        self.group_column = index[group_feature]
        self.calibration = {g: (1.0, 0.0) for g in GROUPS}
        self.level = LEVEL
        return self

    def groups(self, X: np.ndarray) -> np.ndarray:
        """True for the rows calibrated as interstate."""
        return X[:, self.group_column] > 0

    def calibrate(self, X_val: np.ndarray, y_val: np.ndarray) -> "AdditiveRisk":
        """Platt scaling per dyad kind, on the validation period."""
        z, inter = self.raw_log_odds(X_val), self.groups(X_val)
        self.calibration = {INTERSTATE: platt(z[inter], y_val[inter]), OTHER: platt(z[~inter], y_val[~inter])}
        return self

    def fit_intervals(self, design_fit: np.ndarray, y_fit: np.ndarray, weights_fit: np.ndarray,
                      dyads_fit: np.ndarray, X_val: np.ndarray, design_val: np.ndarray, y_val: np.ndarray,
                      dyads_val: np.ndarray, C: float, draws: int = DRAWS, seed: int = 0) -> "AdditiveRisk":
        """DRAWS refits of the logistic layer on the spline design (`design_fit`, the pipeline's transform of the
        fit rows) with dyads drawn with replacement (their counts multiply the sample weights), each calibrated per
        kind on a bootstrap of the validation dyads. Seeded: deterministic."""
        rng = np.random.default_rng(seed)
        _, fit_group = np.unique(dyads_fit, return_inverse=True)
        _, val_group = np.unique(dyads_val, return_inverse=True)
        n_fit, n_val = fit_group.max() + 1, val_group.max() + 1
        inter = self.groups(X_val)
        n_smooth, n_basis = self.spline_coef.shape
        out = {"spline_coef": np.empty((draws, n_smooth, n_basis)), "flag_coef": np.empty((draws, len(self.flag_coef))),
               "intercept": np.empty(draws), "calibration": np.empty((draws, 2, 2))}
        for k in range(draws):
            counts = rng.multinomial(n_fit, np.full(n_fit, 1 / n_fit))
            w = weights_fit * counts[fit_group]
            keep = w > 0
            lr = logistic(C=C).fit(design_fit[keep], y_fit[keep], sample_weight=w[keep])
            coef = lr.coef_[0]
            out["spline_coef"][k] = coef[:n_smooth * n_basis].reshape(n_smooth, n_basis)
            out["flag_coef"][k] = coef[n_smooth * n_basis:]
            out["intercept"][k] = lr.intercept_[0]
            z = lr.decision_function(design_val)
            val_counts = rng.multinomial(n_val, np.full(n_val, 1 / n_val))
            vw = val_counts[val_group].astype(np.float64)
            for g, part in enumerate((inter, ~inter)):
                use = part & (vw > 0)
                out["calibration"][k, g] = platt(z[use], y_val[use], vw[use]) if use.any() else (1.0, 0.0)
        self.draws = out
        return self

    # ---- evaluation

    def _grid(self) -> dict[str, np.ndarray]:
        """The splines' knots as arrays over all smooth features (built once per loaded model)."""
        found = _GRIDS.get(self)
        if found is None:
            d = self.degree
            lo, hi = self.knots[:, d], self.knots[:, -d - 1]
            steps = np.diff(self.knots, axis=1)
            if d != 3 or not np.allclose(steps, steps[:, :1], rtol=1e-9, atol=1e-12):
                raise ValueError("AdditiveRisk evaluates uniform cubic B-splines only (families.additive's)")
            constant = lo == hi
            width = np.where(constant, 1.0, (hi - lo) / (self.knots.shape[1] - 2 * d - 1))
            # (a feature constant in the fit data has a constant term: its basis at the one value seen)
            found = _GRIDS[self] = {"lo": lo, "hi": hi, "width": width, "constant": constant,
                                    "intervals": self.knots.shape[1] - 2 * d - 1}
        return found

    def _basis(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row and smooth feature, the first of the four basis functions that are non-zero at its value and
        their values: (n, F) indices and (n, F, 4) weights of the uniform cubic B-spline (de Boor's on uniform
        knots, in closed form), the value clipped to the fit range first (extrapolation="constant")."""
        g = self._grid()
        z = np.clip(np.arcsinh(X[:, self.smooth_columns]), g["lo"], g["hi"])
        u = (z - g["lo"]) / g["width"]
        first = np.minimum(u.astype(np.int64), g["intervals"] - 1)  # u >= 0, so the cast floors
        t = u - first
        t2, t3 = t * t, t * t * t
        weights = np.stack([(1 - t) ** 3, 3 * t3 - 6 * t2 + 4, -3 * t3 + 3 * t2 + 3 * t + 1, t3], axis=-1) / 6
        return first, weights

    def _smooth_terms(self, X: np.ndarray, coef: np.ndarray) -> np.ndarray:
        """Per row and smooth feature, its term with coefficients `coef` (F, n_basis)."""
        g = self._grid()
        first, weights = self._basis(X)
        picked = coef[np.arange(coef.shape[0])[None, :, None], first[:, :, None] + np.arange(4)]  # (n, F, 4)
        out = (weights * picked).sum(axis=-1)  # elementwise, not einsum: a row's sum is the same in any batch
        if g["constant"].any():
            const = np.einsum("fb,fb->f", self.basis_at_fit_value, coef)
            out[:, g["constant"]] = const[g["constant"]]
        return out

    def _smooth_draws(self, X: np.ndarray) -> np.ndarray:
        """Per row and draw, the sum of the smooth features' terms under that draw's coefficients."""
        g = self._grid()
        coef = self.draws["spline_coef"]  # (draws, F, n_basis)
        first, weights = self._basis(X)
        features = np.arange(coef.shape[1])[None, :, None]
        picked = coef[:, features, first[:, :, None] + np.arange(4)]  # (draws, n, F, 4)
        if g["constant"].any():
            weights = weights.copy()
            weights[:, g["constant"]] = 0.0
        out = sum_last((weights[None] * picked).sum(axis=-1)).T  # (4 terms: summed in order at any shape)
        if g["constant"].any():
            const = np.einsum("fb,kfb->kf", self.basis_at_fit_value, coef)[:, g["constant"]].sum(axis=1)
            out += const[None, :]
        return out

    def terms(self, X: np.ndarray) -> np.ndarray:
        """Uncalibrated per-feature terms of the logistic layer (n x n_features)."""
        out = np.zeros(X.shape)
        out[:, self.smooth_columns] = self._smooth_terms(X, self.spline_coef)
        out[:, self.flag_columns] = X[:, self.flag_columns] * self.flag_coef
        return out

    def raw_log_odds(self, X: np.ndarray) -> np.ndarray:
        return self.intercept + self.terms(X).sum(axis=1)

    def slope_shift(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        inter = self.groups(X)
        (a1, b1), (a0, b0) = self.calibration[INTERSTATE], self.calibration[OTHER]
        return np.where(inter, a1, a0), np.where(inter, b1, b0)

    def log_odds(self, X: np.ndarray) -> np.ndarray:
        slope, shift = self.slope_shift(X)
        return slope * self.raw_log_odds(X) + shift

    def proba(self, X: np.ndarray) -> np.ndarray:
        return expit(self.log_odds(X))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = self.proba(X)
        return np.column_stack([1 - p, p])

    def interval(self, X: np.ndarray, p: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The central LEVEL interval of each row's draws, widened to contain its probability `p`."""
        if p is None:
            p = self.proba(X)
        if self.draws is None:
            return p.copy(), p.copy()
        d = self.draws
        # (n, draws): the intercept, then each flag in order, so that a row gets the same bits alone or in a batch
        n, draws = X.shape[0], len(d["intercept"])
        raw = sum_last(np.concatenate([np.broadcast_to(d["intercept"][None, :, None], (n, draws, 1)),
                                       X[:, None, self.flag_columns] * d["flag_coef"][None]], axis=-1))
        for rows in range(0, X.shape[0], _CHUNK):  # (rows, F, 4, draws) at a time
            raw[rows:rows + _CHUNK] += self._smooth_draws(X[rows:rows + _CHUNK])
        inter = self.groups(X)[:, None]
        cal = d["calibration"]
        slope = np.where(inter, cal[:, 0, 0], cal[:, 1, 0])
        shift = np.where(inter, cal[:, 0, 1], cal[:, 1, 1])
        draws = expit(slope * raw + shift)
        tail = (1 - self.level) / 2
        low, high = np.quantile(draws, [tail, 1 - tail], axis=1)
        return np.minimum(low, p), np.maximum(high, p)
