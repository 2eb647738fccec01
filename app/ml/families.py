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


def _groups() -> np.ndarray:
    """Design column -> feature matrix (n_design x n_features) for the additive pipeline's output order."""
    index = {n: i for i, n in enumerate(FEATURE_NAMES)}
    cols = [index[n] for n in SMOOTH for _ in range(N_SPLINES)] + [index[n] for n in FLAGS]
    G = np.zeros((len(cols), len(FEATURE_NAMES)))
    G[np.arange(len(cols)), cols] = 1.0
    return G


class Decomposer:
    """Calibrated log-odds of a calibrated additive pipeline = baseline + one contribution per feature.

    The baseline is the calibrated log-odds of the reference pair (`reference_terms`), so a
    contribution says how far this dyad's value of a feature moves the log-odds from there.
    """

    def __init__(self, model: CalibratedClassifierCV, reference: np.ndarray):
        (calibrated,) = model.calibrated_classifiers_
        pipeline = calibrated.estimator.estimator
        sigmoid = calibrated.calibrators[0]
        self._design = pipeline.named_steps["design"]
        logit = pipeline.named_steps["logit"]
        self._weights = logit.coef_[0][:, None] * _groups()  # design column -> weighted feature term
        self._slope = -float(sigmoid.a_)  # sklearn's sigmoid: p = expit(-(a * f + b))
        self._shift = -float(sigmoid.b_)
        self._means = np.asarray(reference, dtype=np.float64)  # the reference pair's terms
        self.baseline = self._slope * (float(logit.intercept_[0]) + float(self._means.sum())) + self._shift

    def terms(self, X: np.ndarray) -> np.ndarray:
        """Uncalibrated per-feature terms of the logistic layer (n x n_features)."""
        return self._design.transform(X) @ self._weights

    def contributions(self, X: np.ndarray) -> np.ndarray:
        out = self._slope * (self.terms(X) - self._means)
        out[X == REFERENCE_X] = 0.0  # at its reference value a term moves nothing (not float noise)
        return out


def reference_terms(model: CalibratedClassifierCV) -> np.ndarray:
    """Each feature's uncalibrated term for the reference pair: no recorded events, no structural ties, no
    kind flag. Contributions then read as "what this dyad's events and context add to a quiet, unrelated pair"."""
    pipeline = model.calibrated_classifiers_[0].estimator.estimator
    weights = pipeline.named_steps["logit"].coef_[0][:, None] * _groups()
    return (pipeline.named_steps["design"].transform(REFERENCE_X[None, :]) @ weights)[0]
