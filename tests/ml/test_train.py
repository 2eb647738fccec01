"""Training reproduces the bundled model from ../shared/data (deterministic: one thread, fixed seeds)."""

import json
from pathlib import Path

import pytest

from app.ml import artifact, train
from app.ml.scorer import Scorer, load_scorer
from tests.ml.helpers import dyad_facts, seed_events

MODELS = Path(__file__).resolve().parents[2] / "models"


def test_missing_data_dir_is_an_error(tmp_path: Path):
    assert train.main(["--data-dir", str(tmp_path / "nowhere"), "--model-dir", str(tmp_path / "m")]) == 2


@pytest.mark.shared_data
@pytest.mark.slow
def test_training_reproduces_the_bundled_metrics_and_scores(data_dir: Path, tmp_path: Path, scorer: Scorer):
    assert train.main(["--data-dir", str(data_dir), "--model-dir", str(tmp_path)]) == 0
    fresh, bundled = (
        json.loads((tmp_path / artifact.CARD).read_text()),
        json.loads((MODELS / artifact.CARD).read_text()),
    )
    assert fresh["metrics"] == bundled["metrics"]
    assert fresh["thresholds"] == bundled["thresholds"] and fresh["data_files"] == bundled["data_files"]
    facts = dyad_facts(seed_events(), "IRN--PAK")
    ctx = scorer.context_for("IRN", "PAK", facts[-1].occurred_on)
    assert load_scorer(tmp_path).score(facts, facts[-1].occurred_on, ctx) == scorer.score(
        facts, facts[-1].occurred_on, ctx
    )
