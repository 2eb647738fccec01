"""Targets on small hand-made histories."""

from datetime import date, timedelta

from app.ml.labels import labels_for
from tests.ml.helpers import fact

T = date(2010, 6, 1)


def day(k: int) -> date:
    return T + timedelta(days=k)


def test_quiet_dyad_with_no_future_has_no_positive_label():
    assert labels_for([fact(day(-100))], T) == {"escalation_30d": 0, "use_of_force_30d": 0, "fatal_30d": 0}


def test_first_threat_after_quiet_is_escalation_but_not_force():
    labels = labels_for([fact(day(10), hostility=2, rung=1)], T)
    assert labels == {"escalation_30d": 1, "use_of_force_30d": 0, "fatal_30d": 0}


def test_higher_hostility_within_horizon_is_escalation():
    history = [fact(day(-5), hostility=3, rung=4), fact(day(20), hostility=5, rung=10)]
    assert labels_for(history, T)["escalation_30d"] == 1


def test_same_level_and_fewer_deaths_is_not_escalation():
    history = [fact(day(-5), fatalities=10), fact(day(20), fatalities=3)]
    assert labels_for(history, T) == {"escalation_30d": 0, "use_of_force_30d": 1, "fatal_30d": 1}


def test_more_deaths_at_the_same_level_is_escalation():
    assert labels_for([fact(day(-5), fatalities=3), fact(day(20), fatalities=4)], T)["escalation_30d"] == 1


def test_horizon_edges():
    # day t itself belongs to the past window; day t+30 is the last day of the horizon, t+31 is outside
    assert labels_for([fact(day(0), fatalities=5)], T)["fatal_30d"] == 0
    assert labels_for([fact(day(30), fatalities=5)], T)["fatal_30d"] == 1
    assert labels_for([fact(day(31), fatalities=5)], T)["fatal_30d"] == 0
    # an event 30 days before t is outside the window before t, so the same level again escalates
    assert labels_for([fact(day(-30), fatalities=5), fact(day(5), fatalities=5)], T)["escalation_30d"] == 1
    assert labels_for([fact(day(-29), fatalities=5), fact(day(5), fatalities=5)], T)["escalation_30d"] == 0
