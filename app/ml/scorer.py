"""What the service calls: load the bundled model once, then score dyads with probabilities, a level and drivers."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

from app.config import REPO_ROOT
from app.ml import artifact
from app.ml.context import ContextTable
from app.events.facts import DyadContext, EventFact
from app.ml.features import FEATURE_NAMES, build_matrix
from app.ml.levels import LEVELS

TOP_DRIVERS = 5
# One OpenMP thread per predict: tiny batches gain nothing from more, and spinning threads stall a busy host.
_THREADS = ThreadpoolController()


@dataclass(frozen=True)
class Driver:
    feature: str
    value: float
    contribution: float  # P(primary) minus P(primary) with this feature at its reference value (never 0)


@dataclass(frozen=True)
class Score:
    probabilities: dict[str, float]
    level: str
    drivers: list[Driver]
    features: dict[str, float]  # every model input, so an assessment can be audited


def _proba(model: Any, X: np.ndarray) -> np.ndarray:
    """P(class 1) of a binary CalibratedClassifierCV(FrozenEstimator(...)), equal to predict_proba[:, 1].

    Calls the boosted model's decision function and the sigmoid calibrator directly, skipping the
    wrapper layers' re-validation, which costs about as much as the trees for one dyad.
    """
    (calibrated,) = model.calibrated_classifiers_
    return calibrated.calibrators[0].predict(calibrated.estimator.estimator.decision_function(X))


class Scorer:
    """Per-target calibrated estimators plus the card's thresholds, reference values and context table."""

    def __init__(self, models: dict[str, Any], card: dict, context: ContextTable):
        self.models, self.card, self._context = models, card, context
        self.version: str = card["version"]
        self.targets: tuple[str, ...] = tuple(card["targets"])
        self.primary: str = card["primary"]
        self._reference = np.asarray(card["reference_values"], dtype=np.float64)
        self._thresholds = card["thresholds"]

    def context_for(self, member_a: str, member_b: str, as_of: date) -> DyadContext:
        return self._context.context_for(member_a, member_b, as_of)

    def level_for(self, p_primary: float) -> str:
        level = LEVELS[0]
        for name in LEVELS[1:]:
            cut = self._thresholds.get(name)
            if cut is not None and p_primary >= cut:
                level = name
        return level

    def score(self, facts: Sequence[EventFact], as_of: date, context: DyadContext) -> Score:
        return self.score_many([(facts, as_of, context)])[0]

    def score_many(self, items: Sequence[tuple[Sequence[EventFact], date, DyadContext]]) -> list[Score]:
        """Features, all targets and drivers for many dyads, with one predict call per target."""
        if not items:
            return []
        X = build_matrix(items)
        n, k = X.shape
        # rows: each dyad, then one row per feature that differs from its reference value, with
        # that feature set to the reference; a feature already at its reference contributes 0.
        rows, cols = np.nonzero(X != self._reference)
        perturbed = X[rows]
        perturbed[np.arange(rows.size), cols] = self._reference[cols]
        stacked = np.vstack([X, perturbed])
        with _THREADS.limit(limits=1, user_api="openmp"):
            p_all = _proba(self.models[self.primary], stacked)
            probs = {t: _proba(self.models[t], X) for t in self.targets if t != self.primary}
        p_primary = p_all[:n]
        contrib = np.zeros((n, k))
        contrib[rows, cols] = p_primary[rows] - p_all[n:]
        probs[self.primary] = p_primary
        top = np.argsort(-np.abs(contrib), axis=1, kind="stable")[:, :TOP_DRIVERS]
        return [
            Score(
                probabilities={t: float(probs[t][i]) for t in self.targets},
                level=self.level_for(float(p_primary[i])),
                drivers=[Driver(FEATURE_NAMES[j], float(X[i, j]), float(contrib[i, j]))
                         for j in top[i] if contrib[i, j] != 0.0],
                features=dict(zip(FEATURE_NAMES, X[i].tolist())),
            )
            for i in range(n)
        ]


def load_scorer(model_dir: Path | None = None) -> Scorer:
    """The bundled scorer (default <repo>/models); raises artifact.ArtifactError if files are tampered or mismatched."""
    model_dir = model_dir or REPO_ROOT / "models"
    models, card, table = artifact.load(model_dir)
    if card.get("features") != list(FEATURE_NAMES):
        raise artifact.ArtifactError("the card's feature list differs from app.ml.features.FEATURE_NAMES")
    return Scorer(models, card, ContextTable(table))
