"""Targets on small hand-made histories."""

from datetime import date, timedelta

from app.ml.labels import labels_for
from tests.ml.helpers import fact

T = date(2010, 6, 1)


def day(k: int) -> date:
    return T + timedelta(days=k)


def test_quiet_dyad_with_no_future_has_no_positive_label():
    assert labels_for([fact(day(-100), fatalities=500)], T) == {
        "serious_violence_30d": 0, "use_of_force_30d": 0, "fatal_30d": 0}


def test_threat_is_neither_force_nor_violence():
    labels = labels_for([fact(day(10), hostility=2, rung=1)], T)
    assert labels == {"serious_violence_30d": 0, "use_of_force_30d": 0, "fatal_30d": 0}


def test_serious_violence_needs_25_deaths_summed_over_the_horizon():
    assert labels_for([fact(day(3), fatalities=24)], T)["serious_violence_30d"] == 0
    assert labels_for([fact(day(3), fatalities=25)], T)["serious_violence_30d"] == 1
    both_directions = [fact(day(3), "AAA", "BBB", fatalities=12), fact(day(20), "BBB", "AAA", fatalities=13)]
    assert labels_for(both_directions, T) == {"serious_violence_30d": 1, "use_of_force_30d": 1, "fatal_30d": 1}


def test_horizon_edges():
    # day t itself is the past; day t+30 is the last day of the horizon, t+31 is outside
    assert labels_for([fact(day(0), fatalities=50)], T)["serious_violence_30d"] == 0
    assert labels_for([fact(day(30), fatalities=50)], T)["serious_violence_30d"] == 1
    assert labels_for([fact(day(31), fatalities=50)], T)["serious_violence_30d"] == 0
    assert labels_for([fact(day(1), fatalities=20), fact(day(31), fatalities=20)], T)["serious_violence_30d"] == 0


def test_the_previous_window_uses_the_same_definitions_over_t_minus_30_to_t():
    import numpy as np

    from app.ml.features import History
    from app.ml.labels import previous_matrix

    facts = [fact(day(-30), fatalities=100), fact(day(-29), fatalities=20), fact(day(0), hostility=4, fatalities=5),
             fact(day(1), fatalities=500)]
    prev = previous_matrix(History(facts), np.array([T.toordinal()]))
    # day -30 is outside (t-30, t]; day 1 is after t: 20 + 5 deaths, a use of force, fatal events
    assert {k: int(v[0]) for k, v in prev.items()} == {
        "serious_violence_30d": 1, "use_of_force_30d": 1, "fatal_30d": 1}
    assert labels_for(facts, day(-30)) == {k: int(v[0]) for k, v in prev.items()}
    quiet = previous_matrix(History(facts[:1]), np.array([T.toordinal()]))
    assert {k: int(v[0]) for k, v in quiet.items()} == {"serious_violence_30d": 0, "use_of_force_30d": 0, "fatal_30d": 0}
