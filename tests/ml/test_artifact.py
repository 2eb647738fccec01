"""The bundled artifact loads only when its hash and scikit-learn version match the card."""

import json
import shutil
from pathlib import Path

import pytest

from app.ml import artifact
from app.ml.scorer import load_scorer

MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.fixture()
def model_copy(tmp_path: Path) -> Path:
    for name in (artifact.ARTIFACT, artifact.CARD, artifact.CONTEXT):
        shutil.copy(MODELS / name, tmp_path / name)
    return tmp_path


def test_bundled_artifact_loads_and_matches_its_card():
    scorer = load_scorer()
    assert scorer.version == scorer.card["version"]
    assert scorer.card["artifact"]["sha256"] == artifact.sha256(MODELS / artifact.ARTIFACT)
    assert set(scorer.targets) == set(scorer.card["target_definitions"])


def test_flipped_byte_is_refused(model_copy: Path):
    path = model_copy / artifact.ARTIFACT
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(artifact.ArtifactError, match="SHA-256"):
        load_scorer(model_copy)


def test_tampered_context_table_is_refused(model_copy: Path):
    path = model_copy / artifact.CONTEXT
    path.write_text(path.read_text().replace('"IRN","PAK"', '"IRN","PAX"', 1) + " ")
    with pytest.raises(artifact.ArtifactError, match="SHA-256"):
        load_scorer(model_copy)


def test_other_sklearn_version_is_refused(model_copy: Path):
    card_path = model_copy / artifact.CARD
    card = json.loads(card_path.read_text())
    card["libraries"]["scikit-learn"] = "0.24.2"
    card_path.write_text(json.dumps(card))
    with pytest.raises(artifact.ArtifactError, match="scikit-learn 0.24.2"):
        load_scorer(model_copy)


def test_missing_card_is_refused(model_copy: Path):
    (model_copy / artifact.CARD).unlink()
    with pytest.raises(artifact.ArtifactError, match="missing model card"):
        load_scorer(model_copy)


def test_types_outside_the_trusted_list_are_refused(model_copy: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(artifact, "TRUSTED", [t for t in artifact.TRUSTED if "AdditiveRisk" not in t])
    with pytest.raises(artifact.ArtifactError, match="cannot load"):
        load_scorer(model_copy)


def test_the_markdown_card_is_rendered_from_the_json_card():
    from app.ml import model_card

    card = json.loads((MODELS / artifact.CARD).read_text())
    assert (MODELS / "MODEL_CARD.md").read_text() == model_card.render(card)


def test_the_card_opens_with_each_missed_bar_and_its_figure():
    """The first line names where the bar is missed with the figure that misses it, not only the set's name."""
    from app.ml import model_card

    card = json.loads((MODELS / artifact.CARD).read_text())
    first = model_card.render(card).splitlines()[2]
    primary = card["metrics"][card["primary"]]
    entries = [(name, name, r) for name, r in primary.items()]
    entries += [(f"{name}'s interstate dyads", name, r["interstate"]) for name, r in primary.items()
                if "interstate" in r]
    missed = [(label, name, e) for label, name, e in entries if e["bar"].startswith("missed")]
    assert first.startswith("**The bar is missed on" if missed else "**The bar is met on every claimed test set.**")
    for label, name, e in missed:
        assert f"{label}, test {model_card._test_period(card, name)}: " in first
        for figure in ("bss_vs_best", "auc_diff_vs_best"):  # both clauses of the bar, with their intervals
            low, high = e[figure]["ci90"]
            assert f"{e[figure]['value']:+.3f} [{low:+.3f}, {high:+.3f}]" in first


def test_a_test_set_s_period_is_its_sources_test_periods():
    from app.ml import model_card

    card = json.loads((MODELS / artifact.CARD).read_text())
    assert model_card._test_period(card, "ged_global") == "2018-01-01 to 2020-12-31"
    assert model_card._test_period(card, "mie_interstate") == "2005-01-01 to 2014-12-31"
    # the slices' sources end at different dates: each period once
    assert model_card._test_period(card, "ged_slices") == "2018-01-01 to 2023-12-31; 2018-01-01 to 2019-11-30"
