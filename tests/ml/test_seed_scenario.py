"""The reference scenario: Iran strikes inside Pakistan, Pakistan retaliates inside Iran (January 2024)."""

from datetime import date

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


def test_no_label_of_a_past_answer_says_today_or_credits_an_absence(scorer: Scorer):
    scores = _scores(scorer)
    for name in ("retaliation", "six_months_later"):
        for d in scores[name].drivers:
            assert "today" not in d["label"], d["label"]
            if d["contribution"] > 0:  # what raises the risk is named by what is there
                assert not d["label"].startswith("no "), d["label"]
    later = {d["theme"]: d for d in scores["six_months_later"].drivers}
    assert later["severity"]["label"].startswith("the last act, Pakistan's use of force on 2024-01-18")
    assert later["casualties"]["label"].startswith(
        "11 killed in the past year (9 in the deadliest event), none in the last 30 days")
    structural = later["structural"]["label"]
    assert structural.startswith("state vs state, neighbours") and "(against an unrelated pair)" in structural


def test_every_score_carries_an_interval_around_it(scorer: Scorer):
    for name, s in _scores(scorer).items():
        p = s.probabilities[scorer.primary]
        assert 0 <= s.interval["low"] <= p <= s.interval["high"] <= 1, name
        assert s.interval["level"] == 0.9
    scores = _scores(scorer)
    assert scores["retaliation"].interval["high"] > scores["retaliation"].interval["low"]
