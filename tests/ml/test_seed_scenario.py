"""The reference scenario: Iran strikes inside Pakistan, Pakistan retaliates inside Iran (January 2024)."""

from datetime import date

import pytest

from app.ml.features import FEATURE_NAMES, build_features
from app.ml.scorer import Score, Scorer
from tests.ml.helpers import dyad_facts, seed_events


def _scores(scorer: Scorer) -> dict[str, Score]:
    facts = dyad_facts(seed_events(), "IRN--PAK")
    assert [f.initiator for f in facts] == ["IRN", "PAK"] and facts[1].retaliation
    ctx = scorer.context_for("IRN", "PAK", date(2024, 1, 18))
    return {
        "nothing": scorer.score([], date(2024, 1, 18), ctx),
        "strike": scorer.score(facts[:1], date(2024, 1, 16), ctx),
        "retaliation": scorer.score(facts, date(2024, 1, 18), ctx),
        "six_months_later": scorer.score(facts, date(2024, 7, 18), ctx),
    }


def test_exchange_raises_risk_and_quiet_months_lower_it(scorer: Scorer):
    p = {name: s.probabilities[scorer.primary] for name, s in _scores(scorer).items()}
    assert p["retaliation"] > p["strike"] > p["nothing"]
    assert p["six_months_later"] < p["retaliation"]


def test_the_model_sees_the_retaliation_as_reciprocity(scorer: Scorer):
    facts = dyad_facts(seed_events(), "IRN--PAK")
    ctx = scorer.context_for("IRN", "PAK", date(2024, 1, 18))
    x = dict(zip(FEATURE_NAMES, build_features(facts, date(2024, 1, 18), ctx), strict=True))
    assert (x["responses_30d"], x["reciprocated_30d"], x["tit_for_tat_chain_30d"], x["response_lag_days"]) == (
        1, 1, 2, 2)


def test_the_retaliation_driver_says_what_happened_and_which_way_the_data_push(scorer: Scorer):
    drivers = _scores(scorer)["retaliation"].drivers
    retaliation = next(d for d in drivers if d["theme"] == "retaliation")
    way = "raises" if retaliation["contribution"] > 0 else "lowers"
    assert retaliation["label"] == f"Pakistan struck back two days after Iran's strike; this {way} the risk"
    assert [f["initiator"] for f in retaliation["facts"]] == ["IRN", "PAK"]


@pytest.mark.xfail(
    strict=True,
    reason="data, not code: the answered strike adds about +0.3 log-odds, behind tempo, casualties and severity "
    "(about +1.5, +1.1, +0.8): the theme ranks 4th of 6 (models/MODEL_CARD.md, reciprocity findings)",
)
def test_retaliation_is_among_the_top_three_drivers_of_the_second_score(scorer: Scorer):
    top = [d["theme"] for d in _scores(scorer)["retaliation"].drivers[:3]]
    assert "retaliation" in top
