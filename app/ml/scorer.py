"""What the service calls: load the bundled model once, then score dyads with probabilities, a level,
an exact log-odds explanation and readable drivers."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit
from threadpoolctl import ThreadpoolController

from app.config import REPO_ROOT
from app.events.facts import NO_FRONTS, DyadContext
from app.events.members import dyad_id
from app.ml import artifact, explain
from app.ml.context import ContextTable
from app.ml.families import Decomposer
from app.ml.fronts import NO_ACTIVITY, Activity
from app.ml.risk_model import AdditiveRisk, sum_last
from app.ml.features import FEATURE_NAMES, Batch, Facts
from app.ml.levels import LEVELS

TOP_DRIVERS = 7  # every theme, strongest first: seven lines an analyst can read
# One OpenMP thread per predict: tiny batches gain nothing from more, and spinning threads stall a busy host.
_THREADS = ThreadpoolController()


@dataclass(frozen=True)
class Score:
    probabilities: dict[str, float]
    interval: dict[str, float]  # {low, high, level} of the primary probability (app.ml.risk_model)
    level: str
    drivers: list[dict]  # themes: {theme, contribution (log-odds), label, facts, features}
    features: dict[str, float]  # every model input, so an assessment can be audited
    explanation: dict  # {unit: "log_odds", baseline, contributions: {feature: value}}


class Scorer:
    """Per-target calibrated estimators plus the card's thresholds, explanation reference and context table."""

    def __init__(self, models: dict[str, Any], card: dict, context: ContextTable):
        self.models, self.card, self._context = models, card, context
        self.version: str = card["version"]
        self.targets: tuple[str, ...] = tuple(card["targets"])
        self.primary: str = card["primary"]
        self._thresholds = card["thresholds"]
        self._decomposer = Decomposer(models[self.primary], np.asarray(card["term_reference"]))
        self._secondary = {t: models[t] for t in self.targets if t != self.primary}

    def context_for(self, member_a: str, member_b: str, as_of: date, activity: Activity = NO_ACTIVITY) -> DyadContext:
        """The dyad's structural context as of a date, with its members' other fronts from `activity` (none without)."""
        context = self._context.context_for(member_a, member_b, as_of)
        fronts = activity.fronts(dyad_id(member_a, member_b), (member_a, member_b), as_of.toordinal())
        return context if fronts is NO_FRONTS else replace(context, fronts=fronts)

    def level_for(self, p_primary: float) -> str:
        level = LEVELS[0]
        for name in LEVELS[1:]:
            if p_primary >= self._thresholds[name]["cut"]:
                level = name
        return level

    def score(self, facts: Facts, as_of: date, context: DyadContext) -> Score:
        return self.score_many([(facts, as_of, context)])[0]

    def score_many(self, items: Sequence[tuple[Facts, date, DyadContext]]) -> list[Score]:
        """Features, all targets, explanation and drivers for many dyads, one transform per target."""
        if not items:
            return []
        batch = Batch(items)
        X = batch.matrix()
        with _THREADS.limit(limits=1, user_api="openmp"):
            contrib = self._decomposer.contributions(X)
            probs = {t: model.proba(X) for t, model in self._secondary.items()}
            baselines = self._decomposer.baseline(X)
            p_primary = expit(baselines + sum_last(contrib))
            low, high = self.models[self.primary].interval(X, p_primary)
        probs[self.primary] = p_primary
        level = self.models[self.primary].level
        # Python floats once per matrix, not per element; dicts per row are all that remains
        rows, parts_rows = X.tolist(), contrib.tolist()
        lows, highs, bases = low.tolist(), high.tolist(), baselines.tolist()
        columns = [probs[t].tolist() for t in self.targets]
        drivers = explain.Drivers(batch)
        out = []
        for i, (x_row, parts_row) in enumerate(zip(rows, parts_rows)):
            x = dict(zip(FEATURE_NAMES, x_row))
            parts = dict(zip(FEATURE_NAMES, parts_row))
            probabilities = dict(zip(self.targets, (c[i] for c in columns)))
            out.append(Score(
                probabilities=probabilities,
                interval={"low": lows[i], "high": highs[i], "level": level},
                level=self.level_for(probabilities[self.primary]),
                drivers=drivers.row(i, x, x_row, parts_row, TOP_DRIVERS),
                features=x,
                explanation={"unit": "log_odds", "baseline": bases[i], "contributions": parts},
            ))
        return out


def load_scorer(model_dir: Path | None = None) -> Scorer:
    """The bundled scorer (default <repo>/models); raises artifact.ArtifactError if files are tampered or mismatched."""
    model_dir = model_dir or REPO_ROOT / "models"
    models, card, table = artifact.load(model_dir)
    if card.get("features") != list(FEATURE_NAMES):
        raise artifact.ArtifactError("the card's feature list differs from app.ml.features.FEATURE_NAMES")
    if not all(isinstance(m, AdditiveRisk) and m.feature_names == list(FEATURE_NAMES) for m in models.values()):
        raise artifact.ArtifactError("the artifact's models are not this version's AdditiveRisk")
    return Scorer(models, card, ContextTable(table))
