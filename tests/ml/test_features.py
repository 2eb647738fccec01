"""Feature builder: no leakage from the future, reciprocity inference, batch = single."""

import random
from datetime import date, timedelta

import numpy as np
import pytest

from app.events.facts import DyadContext
from app.ml.features import DECAY_HALF_LIVES, FEATURE_NAMES, INDEX, NEVER, build_features, build_matrix
from tests.ml.helpers import fact

CTX = DyadContext(kind="state_state", contiguous=True)


def _random_history(rng: random.Random, n: int) -> list:
    start = date(2000, 1, 1)
    out = []
    for _ in range(n):
        a, b = rng.choice([("AAA", "BBB"), ("BBB", "AAA")])
        out.append(
            fact(
                start + timedelta(days=rng.randrange(0, 900)),
                a,
                b,
                hostility=rng.randint(2, 5),
                rung=rng.randint(1, 10),
                fatalities=rng.choice([0, 0, 3, 40]),
                directed=rng.random() > 0.2,
                retaliation=rng.random() > 0.9,
            )
        )
    return out


def test_future_events_do_not_change_features():
    rng = random.Random(7)
    for _ in range(30):
        history = _random_history(rng, 40)
        as_of = date(2000, 1, 1) + timedelta(days=rng.randrange(0, 900))
        past = [f for f in history if f.occurred_on <= as_of]
        future = [f for f in _random_history(rng, 20) if f.occurred_on > as_of]
        np.testing.assert_array_equal(build_features(past, as_of, CTX), build_features(past + future, as_of, CTX))
        np.testing.assert_array_equal(build_features(past, as_of, CTX), build_features(history, as_of, CTX))


def test_quiet_dyad_has_no_activity_and_the_never_sentinel():
    x = build_features([], date(2024, 1, 1), DyadContext(kind="nonstate_nonstate"))
    assert x.shape == (len(FEATURE_NAMES),)
    assert x[INDEX["days_since_last"]] == NEVER
    assert x[INDEX["events_365d"]] == 0 and x[INDEX["kind_nonstate_nonstate"]] == 1


def test_strike_back_is_inferred_as_a_response():
    d = date(2020, 5, 1)
    history = [
        fact(d, "AAA", "BBB"),
        fact(d + timedelta(days=3), "BBB", "AAA"),
        fact(d + timedelta(days=5), "AAA", "BBB"),
    ]
    x = build_features(history, d + timedelta(days=5), CTX)
    assert x[INDEX["responses_30d"]] == 2
    assert x[INDEX["tit_for_tat_chain_30d"]] == 3
    assert x[INDEX["response_lag_days"]] == 2
    assert x[INDEX["reciprocated_30d"]] == 1


def test_one_sided_and_undirected_events_are_not_responses():
    d = date(2020, 5, 1)
    one_sided = [fact(d, "AAA", "BBB"), fact(d + timedelta(days=3), "AAA", "BBB")]
    clashes = [fact(d, "AAA", "BBB", directed=False), fact(d + timedelta(days=3), "BBB", "AAA", directed=False)]
    for history in (one_sided, clashes):
        x = build_features(history, d + timedelta(days=3), CTX)
        assert x[INDEX["responses_30d"]] == 0 and x[INDEX["reciprocated_30d"]] == 0


def test_explicit_retaliation_flag_counts_without_a_recorded_provocation():
    d = date(2020, 5, 1)
    x = build_features([fact(d, "AAA", "BBB", retaliation=True)], d, CTX)
    assert x[INDEX["responses_30d"]] == 1 and x[INDEX["reciprocated_30d"]] == 1


def test_windows_count_only_their_days():
    d = date(2020, 5, 31)
    history = [fact(d - timedelta(days=k), fatalities=1) for k in (0, 6, 7, 29, 30, 364, 365)]
    x = build_features(history, d, CTX)
    assert (x[INDEX["events_7d"]], x[INDEX["events_30d"]], x[INDEX["events_365d"]]) == (2, 4, 6)
    assert x[INDEX["log_fatalities_30d"]] == np.log1p(4)


def test_deaths_of_the_last_seven_days_count_from_t_minus_6_to_t():
    d = date(2020, 5, 31)
    history = [fact(d - timedelta(days=k), fatalities=n) for k, n in ((0, 3), (6, 5), (7, 100))]
    x = build_features(history + [fact(d + timedelta(days=1), fatalities=50)], d, CTX)
    assert x[INDEX["log_fatalities_7d"]] == np.log1p(8)
    assert build_features(history, d - timedelta(days=8), CTX)[INDEX["log_fatalities_7d"]] == 0


def test_decayed_deaths_halve_each_half_life_over_the_past_year():
    d = date(2020, 5, 31)
    history = [fact(d - timedelta(days=k), fatalities=n) for k, n in ((0, 8), (30, 4), (365, 2), (366, 1000))]
    x = build_features(history + [fact(d + timedelta(days=1), fatalities=50)], d, CTX)
    for h in DECAY_HALF_LIVES:  # the year's window (t-365, t]: day 365 back is out, as for events_365d
        assert x[INDEX[f"decayed_deaths_{h}d"]] == pytest.approx(8 + 4 * 2 ** (-30 / h), rel=1e-12)
    assert build_features([], d, CTX)[INDEX["decayed_deaths_30d"]] == 0


def test_build_matrix_equals_build_features():
    rng = random.Random(3)
    history = _random_history(rng, 25)
    items = [(history, date(2000, 1, 1) + timedelta(days=k), CTX) for k in range(0, 900, 45)]
    items.append(([], date(2001, 1, 1), DyadContext(kind="state_civilians")))
    expected = np.vstack([build_features(*item) for item in items])
    np.testing.assert_array_equal(build_matrix(items), expected)


def test_an_agreement_after_the_last_fighting_calms_and_fighting_after_it_does_not():
    d = date(2020, 5, 1)
    fighting = fact(d, fatalities=40)
    agreement = fact(d + timedelta(days=10), "BBB", "AAA", hostility=1, rung=0, deescalation=True)
    x = build_features([fighting, agreement], d + timedelta(days=20), CTX)
    assert x[INDEX["deescalated_since_fighting"]] == 1 and x[INDEX["deescalation_30d"]] == 1
    assert x[INDEX["responses_30d"]] == 0 and x[INDEX["reciprocated_30d"]] == 0  # an agreement is no strike back
    again = fact(d + timedelta(days=15), "AAA", "BBB")
    assert build_features([fighting, agreement, again], d + timedelta(days=20), CTX)[
        INDEX["deescalated_since_fighting"]] == 0
    assert build_features([fighting, agreement], d + timedelta(days=101), CTX)[INDEX["deescalated_since_fighting"]] == 0


def test_how_deadly_the_events_of_the_past_year_were():
    """The deadliest event and the deaths per fatal event count the past year only, events without deaths aside."""
    d = date(2020, 5, 31)
    history = [fact(d - timedelta(days=k), fatalities=n) for k, n in ((0, 2), (10, 0), (200, 12), (364, 4), (365, 90))]
    x = build_features(history + [fact(d + timedelta(days=1), fatalities=500)], d, CTX)
    assert x[INDEX["log_max_event_deaths_365d"]] == np.log1p(12)
    assert x[INDEX["log_deaths_per_fatal_event_365d"]] == np.log1p(18 / 3)
    quiet = build_features([fact(d - timedelta(days=5), fatalities=0)], d, CTX)
    assert quiet[INDEX["log_max_event_deaths_365d"]] == quiet[INDEX["log_deaths_per_fatal_event_365d"]] == 0
