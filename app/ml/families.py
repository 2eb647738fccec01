"""The two model families compared out of time, and the exact log-odds decomposition of the shipped one.

`additive`: a regularised logistic GAM. Every count-like feature goes through asinh (log-like,
defined at 0 and for negative trends) and a cubic B-spline basis (5 uniform knots, constant
beyond the fit range); flags enter as they are; one L2-penalised logistic regression on top.
Its log-odds are a sum of one term per feature, so an explanation is exact by construction.
`boosting`: HistGradientBoostingClassifier (the v1 family), 100 trees at most.
Both are calibrated with Platt scaling (sigmoid) on the validation period. Platt scaling is
affine in log-odds, so the calibrated log-odds of the additive model are still a sum of terms.
"""

from datetime import date
from typing import Any

import numpy as np
from scipy.interpolate import BSpline
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, SplineTransformer

from app.events.facts import DyadContext
from app.ml.features import FEATURE_NAMES, build_features

FLAGS = tuple(n for n in FEATURE_NAMES if n.startswith("kind_")) + (
    "reciprocated_30d", "deescalated_since_fighting", "major_power", "contiguous", "rivalry", "past_armed_conflict",
)
SMOOTH = tuple(n for n in FEATURE_NAMES if n not in FLAGS)
N_KNOTS, DEGREE = 5, 3
N_SPLINES = N_KNOTS + DEGREE - 1
# The reference pair's features: no events (the date is then unused), no structural ties, no kind flag.
REFERENCE_X = build_features([], date(2000, 1, 1), DyadContext(kind="reference"))
ADDITIVE_C = (0.01, 0.1, 1.0)  # inverse L2 strength, chosen on validation log-loss
GED_WEIGHTS = (1.0, 4.0, 16.0)  # weight of a GED (non-state) fit sample vs an interstate one (38k vs 8k), ditto
BOOSTING_GRID = (
    {"learning_rate": 0.1, "max_leaf_nodes": 15, "max_iter": 100},
    {"learning_rate": 0.05, "max_leaf_nodes": 31, "max_iter": 100, "min_samples_leaf": 100},
)


def additive(c: float) -> Pipeline:
    index = {n: i for i, n in enumerate(FEATURE_NAMES)}
    smooth = make_pipeline(
        FunctionTransformer(np.arcsinh),
        SplineTransformer(n_knots=N_KNOTS, degree=DEGREE, extrapolation="constant"),
    )
    design = ColumnTransformer(
        [("smooth", smooth, [index[n] for n in SMOOTH]), ("flag", "passthrough", [index[n] for n in FLAGS])]
    )
    return Pipeline([("design", design), ("logit", LogisticRegression(C=c, max_iter=5000))])


def boosting(params: dict) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(**params, early_stopping=False, l2_regularization=1.0, random_state=0)


def calibrate(model: Any, X_val: np.ndarray, y_val: np.ndarray) -> CalibratedClassifierCV:
    return CalibratedClassifierCV(FrozenEstimator(model), method="sigmoid").fit(X_val, y_val)


class AdditiveTerms:
    """A calibrated additive pipeline read as one function per feature, for fast exact scoring.

    sklearn's SplineTransformer evaluates a whole basis per call (~10 ms for one row here); the
    fitted term of a feature is one B-spline whose coefficients are the logistic weights of its
    basis, so it is evaluated directly, with x clipped to the fit range (extrapolation="constant"
    is the boundary value of every basis function). Tests check it equals predict_proba.
    """

    def __init__(self, model: CalibratedClassifierCV):
        (calibrated,) = model.calibrated_classifiers_
        pipeline = calibrated.estimator.estimator
        design, logit = pipeline.named_steps["design"], pipeline.named_steps["logit"]
        spline = design.named_transformers_["smooth"].steps[-1][1]
        coef = logit.coef_[0]
        index = {n: i for i, n in enumerate(FEATURE_NAMES)}
        self._smooth = []  # (feature column, lower bound, upper bound, term as a B-spline)
        self._constant = []  # (feature column, term): a feature constant in the fit data has a constant term
        at_fit_value = spline.transform(np.zeros((1, len(SMOOTH))))[0]
        for k, name in enumerate(SMOOTH):
            t, w = spline.bsplines_[k].t, coef[k * N_SPLINES:(k + 1) * N_SPLINES]
            if t[DEGREE] == t[-DEGREE - 1]:
                self._constant.append((index[name], float(at_fit_value[k * N_SPLINES:(k + 1) * N_SPLINES] @ w)))
            else:
                self._smooth.append((index[name], t[DEGREE], t[-DEGREE - 1], BSpline(t, w, DEGREE, extrapolate=False)))
        flags = coef[len(SMOOTH) * N_SPLINES:]
        self._flags = [(index[name], float(w)) for name, w in zip(FLAGS, flags, strict=True)]
        self.intercept = float(logit.intercept_[0])
        sigmoid = calibrated.calibrators[0]
        self.slope, self.shift = -float(sigmoid.a_), -float(sigmoid.b_)  # sklearn's sigmoid: p = expit(-(a f + b))

    def terms(self, X: np.ndarray) -> np.ndarray:
        """Uncalibrated per-feature terms of the logistic layer (n x n_features)."""
        out = np.zeros(X.shape)
        for j, lo, hi, term in self._smooth:
            out[:, j] = term(np.clip(np.arcsinh(X[:, j]), lo, hi))
        for j, w in self._flags:
            out[:, j] = w * X[:, j]
        for j, value in self._constant:
            out[:, j] = value
        return out

    def proba(self, X: np.ndarray) -> np.ndarray:
        return expit(self.slope * (self.intercept + self.terms(X).sum(axis=1)) + self.shift)


class Decomposer:
    """Calibrated log-odds of a calibrated additive pipeline = baseline + one contribution per feature.

    The baseline is the calibrated log-odds of the reference pair (`reference_terms`), so a
    contribution says how far this dyad's value of a feature moves the log-odds from there.
    """

    def __init__(self, model: CalibratedClassifierCV, reference: np.ndarray):
        self._terms = AdditiveTerms(model)
        self._slope = self._terms.slope
        self._means = np.asarray(reference, dtype=np.float64)  # the reference pair's terms
        self.baseline = self._slope * (self._terms.intercept + float(self._means.sum())) + self._terms.shift

    def contributions(self, X: np.ndarray) -> np.ndarray:
        out = self._slope * (self._terms.terms(X) - self._means)
        out[X == REFERENCE_X] = 0.0  # at its reference value a term moves nothing (not float noise)
        return out


def reference_terms(model: CalibratedClassifierCV) -> np.ndarray:
    """Each feature's uncalibrated term for the reference pair: no recorded events, no structural ties, no
    kind flag. Contributions then read as "what this dyad's events and context add to a quiet, unrelated pair"."""
    return AdditiveTerms(model).terms(REFERENCE_X[None, :])[0]
