"""The two model families compared out of time, and the exact log-odds decomposition of the shipped one.

`additive`: a regularised logistic GAM. Every count-like feature goes through asinh (log-like,
defined at 0 and for negative trends) and a cubic B-spline basis (5 uniform knots, constant
beyond the fit range); flags enter as they are; one L2-penalised logistic regression on top.
Its log-odds are a sum of one term per feature, so an explanation is exact by construction.
`boosting`: HistGradientBoostingClassifier (the v1 family), 100 trees at most.
Both are calibrated with Platt scaling (sigmoid) on the validation period; the additive family ships as an
`AdditiveRisk` (app.ml.risk_model), calibrated per dyad kind (interstate and the others). Platt scaling is
affine in log-odds, so the calibrated log-odds of the additive model are still a sum of terms.
"""

from datetime import date
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, SplineTransformer

from app.events.facts import DyadContext
from app.ml.features import FEATURE_NAMES, FEATURES, FLAG_TERM, SMOOTH_TERM, build_features
from app.ml.risk_model import AdditiveRisk, logistic

FLAGS = tuple(f.name for f in FEATURES if f.shape == FLAG_TERM)  # one coefficient each
SMOOTH = tuple(f.name for f in FEATURES if f.shape == SMOOTH_TERM)  # a spline each
GROUP_FEATURE = "kind_state_state"  # calibrated apart: interstate dyads and the others
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


def additive(c: float, without: tuple[str, ...] = ()) -> Pipeline:
    """The GAM over every feature (`without`: leaving those out, for the card's checks of what a theme adds)."""
    index = {n: i for i, n in enumerate(FEATURE_NAMES)}
    smooth = make_pipeline(
        FunctionTransformer(np.arcsinh),
        SplineTransformer(n_knots=N_KNOTS, degree=DEGREE, extrapolation="constant"),
    )
    design = ColumnTransformer(
        [("smooth", smooth, [index[n] for n in SMOOTH if n not in without]),
         ("flag", "passthrough", [index[n] for n in FLAGS if n not in without])]
    )
    return Pipeline([("design", design), ("logit", logistic(C=c))])


def boosting(params: dict) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(**params, early_stopping=False, l2_regularization=1.0, random_state=0)


def calibrate(model: Any, X_val: np.ndarray, y_val: np.ndarray) -> CalibratedClassifierCV:
    return CalibratedClassifierCV(FrozenEstimator(model), method="sigmoid").fit(X_val, y_val)


def shipped(pipeline: Pipeline, X_val: np.ndarray, y_val: np.ndarray) -> AdditiveRisk:
    """The fitted additive pipeline as the object the service loads, calibrated per dyad kind on validation."""
    return AdditiveRisk.from_pipeline(pipeline, list(FEATURE_NAMES), list(SMOOTH), list(FLAGS), DEGREE,
                                      GROUP_FEATURE).calibrate(X_val, y_val)


class Decomposer:
    """Calibrated log-odds of an AdditiveRisk = baseline + one contribution per feature, row by row.

    The baseline is the calibrated log-odds of the reference pair (`reference_terms`) under the row's
    calibration (interstate or other), so a contribution says how far this dyad's value of a feature moves
    the log-odds from there.
    """

    def __init__(self, model: AdditiveRisk, reference: np.ndarray):
        self.model = model
        self._means = np.asarray(reference, dtype=np.float64)  # the reference pair's terms
        self._reference_raw = model.intercept + float(self._means.sum())

    def baseline(self, X: np.ndarray) -> np.ndarray:
        slope, shift = self.model.slope_shift(X)
        return slope * self._reference_raw + shift

    def contributions(self, X: np.ndarray) -> np.ndarray:
        slope, _ = self.model.slope_shift(X)
        out = slope[:, None] * (self.model.terms(X) - self._means)
        out[X == REFERENCE_X] = 0.0  # at its reference value a term moves nothing (not float noise)
        return out


def reference_terms(model: AdditiveRisk) -> np.ndarray:
    """Each feature's uncalibrated term for the reference pair: no recorded events, no structural ties, no
    kind flag. Contributions then read as "what this dyad's events and context add to a quiet, unrelated pair"."""
    return model.terms(REFERENCE_X[None, :])[0]
