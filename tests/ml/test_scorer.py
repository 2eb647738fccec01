"""The Scorer API: probabilities, batch scoring, drivers, levels and context."""

from datetime import date, timedelta

import numpy as np
import pytest

from app.events.facts import DyadContext
from app.ml.features import FEATURE_NAMES, build_features, build_matrix
from app.ml.scorer import TOP_DRIVERS, Scorer
from tests.ml.helpers import fact


def test_scorer_equals_the_manual_pipeline(scorer: Scorer):
    history = [fact(date(2019, 3, 1) + timedelta(days=k * 9), fatalities=k) for k in range(6)]
    ctx = scorer.context_for("IND", "PAK", date(2019, 4, 1))
    x = build_features(history, date(2019, 4, 1), ctx)[None, :]
    score = scorer.score(history, date(2019, 4, 1), ctx)
    for target in scorer.targets:
        assert score.probabilities[target] == pytest.approx(scorer.models[target].predict_proba(x)[0, 1], abs=1e-12)
    assert score.level == scorer.level_for(score.probabilities[scorer.primary])


def test_score_many_equals_one_at_a_time(scorer: Scorer):
    ctx = DyadContext(kind="state_nonstate")
    items = [
        ([fact(date(2015, 1, 1) + timedelta(days=k), fatalities=k)], date(2015, 1, 1) + timedelta(days=k + 3), ctx)
        for k in range(5)
    ] + [([], date(2015, 6, 1), ctx)]
    batch = scorer.score_many(items)
    assert batch == [scorer.score(*item) for item in items]
    assert scorer.score_many([]) == []


def test_every_score_has_signed_drivers_naming_features(scorer: Scorer):
    score = scorer.score([], date(2020, 1, 1), DyadContext(kind="nonstate_civilians"))
    assert len(score.drivers) == TOP_DRIVERS
    assert all(d.feature in FEATURE_NAMES for d in score.drivers)
    sizes = [abs(d.contribution) for d in score.drivers]
    assert sizes == sorted(sizes, reverse=True)


def test_driver_contribution_is_the_change_at_the_reference_value(scorer: Scorer):
    history = [fact(date(2019, 3, 1), fatalities=30), fact(date(2019, 3, 4), "BBB", "AAA", fatalities=5)]
    ctx = DyadContext(kind="state_state", contiguous=True)
    score = scorer.score(history, date(2019, 3, 5), ctx)
    top = score.drivers[0]
    x = build_matrix([(history, date(2019, 3, 5), ctx)])
    j = FEATURE_NAMES.index(top.feature)
    x_ref = x.copy()
    x_ref[0, j] = scorer.card["reference_values"][j]
    model = scorer.models[scorer.primary]
    expected = model.predict_proba(x)[0, 1] - model.predict_proba(x_ref)[0, 1]
    assert top.value == x[0, j] and top.contribution == pytest.approx(expected, abs=1e-12)


def test_levels_follow_the_card_thresholds(scorer: Scorer):
    cuts = scorer.card["thresholds"]
    assert scorer.level_for(0.0) == "low"
    assert scorer.level_for(cuts["elevated"]) in {"elevated", "high", "critical"}
    levels = [scorer.level_for(p) for p in np.linspace(0, 1, 101)]
    order = ["low", "elevated", "high", "critical"]
    assert [order.index(lv) for lv in levels] == sorted(order.index(lv) for lv in levels)


def test_context_for_non_state_members_has_kind_only(scorer: Scorer):
    ctx = scorer.context_for("nsa:jaish-al-adl", "civ:PAK", date(2024, 1, 16))
    assert ctx == DyadContext(kind="nonstate_civilians")
    assert scorer.context_for("IRN", "PAK", date(2024, 1, 16)).contiguous
