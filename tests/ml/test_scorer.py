"""The Scorer API: probabilities equal the calibrated models', explanations add up exactly, drivers read."""

import math
import random
from datetime import date, timedelta

import numpy as np
import pytest

from app.events.facts import DyadContext
from app.ml.explain import THEMES
from app.ml.features import FEATURE_NAMES, build_features
from app.ml.scorer import Scorer
from tests.ml.helpers import fact


def _histories(n: int) -> list:
    rng = random.Random(11)
    out = []
    for k in range(n):
        start = date(2000 + k % 20, 1, 1)
        facts = [fact(start + timedelta(days=rng.randrange(0, 200)), *rng.choice([("AAA", "BBB"), ("BBB", "AAA")]),
                      hostility=rng.randint(2, 5), rung=rng.randint(1, 10), fatalities=rng.choice([0, 2, 40, 900]),
                      deescalation=rng.random() < 0.1)
                 for _ in range(rng.randint(0, 12))]
        ctx = DyadContext(kind=rng.choice(["state_state", "state_nonstate", "nonstate_nonstate"]),
                          contiguous=rng.random() < 0.5, rivalry=rng.random() < 0.3)
        out.append((facts, start + timedelta(days=rng.randrange(0, 400)), ctx))
    return out


def test_probabilities_equal_the_calibrated_models(scorer: Scorer):
    for facts, as_of, ctx in _histories(20):
        x = build_features(facts, as_of, ctx)[None, :]
        score = scorer.score(facts, as_of, ctx)
        for target in scorer.targets:
            assert score.probabilities[target] == pytest.approx(
                scorer.models[target].predict_proba(x)[0, 1], abs=1e-12)
        assert score.level == scorer.level_for(score.probabilities[scorer.primary])


def test_explanation_adds_up_to_the_log_odds_exactly(scorer: Scorer):
    for score in scorer.score_many(_histories(200)):
        e, p = score.explanation, score.probabilities[scorer.primary]
        assert e["unit"] == "log_odds" and list(e["contributions"]) == list(FEATURE_NAMES)
        assert e["baseline"] + sum(e["contributions"].values()) == pytest.approx(math.log(p / (1 - p)), abs=1e-6)


def test_drivers_are_every_theme_strongest_first_summing_their_features(scorer: Scorer):
    score = scorer.score(*_histories(3)[2])
    assert [d["theme"] for d in score.drivers] == sorted(
        THEMES, key=lambda t: -abs(sum(score.explanation["contributions"][f] for f in THEMES[t])))
    for d in score.drivers:
        assert d["contribution"] == pytest.approx(sum(score.explanation["contributions"][f] for f in THEMES[d["theme"]]))
        way = "raises the risk" if d["contribution"] > 0 else "lowers the risk" if d["contribution"] < 0 else "no effect"
        assert d["label"].endswith(way)


def test_a_dyad_with_no_events_is_explained_by_its_structure_alone(scorer: Scorer):
    ctx = scorer.context_for("IND", "PAK", date(2024, 1, 1))
    score = scorer.score([], date(2024, 1, 1), ctx)
    structural = set(THEMES["structural"])
    assert all(v == 0 for f, v in score.explanation["contributions"].items() if f not in structural)
    assert score.drivers[0]["theme"] == "structural" and score.drivers[0]["contribution"] != 0  # its sign: the data's


def test_score_many_equals_one_at_a_time(scorer: Scorer):
    items = _histories(6) + [([], date(2015, 6, 1), DyadContext(kind="state_nonstate"))]
    batch, single = scorer.score_many(items), [scorer.score(*item) for item in items]
    for b, s in zip(batch, single, strict=True):  # a batched matrix product may differ in the last bits
        assert b.features == s.features and b.level == s.level
        assert b.probabilities == pytest.approx(s.probabilities, abs=1e-12)
        assert [d["theme"] for d in b.drivers] == [d["theme"] for d in s.drivers]
    assert scorer.score_many([]) == []


def test_levels_follow_the_card_cuts(scorer: Scorer):
    cuts = scorer.card["thresholds"]
    assert scorer.level_for(0.0) == "low"
    assert scorer.level_for(cuts["critical"]["cut"]) == "critical"
    order = ["low", "elevated", "high", "critical"]
    levels = [order.index(scorer.level_for(p)) for p in np.linspace(0, 1, 101)]
    assert levels == sorted(levels)


def test_context_for_non_state_members_has_kind_only(scorer: Scorer):
    ctx = scorer.context_for("nsa:jaish-al-adl", "civ:PAK", date(2024, 1, 16))
    assert ctx == DyadContext(kind="nonstate_civilians")
    assert scorer.context_for("IRN", "PAK", date(2024, 1, 16)).contiguous


def test_intervals_hold_the_probability_and_the_scores_interval_is_the_models(scorer: Scorer):
    items = _histories(40)
    X = np.vstack([build_features(*item) for item in items])
    low, high = scorer.models[scorer.primary].interval(X)
    for score, lo, hi in zip(scorer.score_many(items), low, high):
        p = score.probabilities[scorer.primary]
        assert score.interval == {"low": pytest.approx(lo, abs=1e-12), "high": pytest.approx(hi, abs=1e-12),
                                  "level": 0.9}
        assert 0 <= lo <= p <= hi <= 1
