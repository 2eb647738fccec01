"""Contagion (app.ml.fronts): the members' other fronts equal a brute-force count over every link."""

import random
from datetime import date, timedelta

from app.events.facts import NO_FRONTS, EventFact
from app.ml.fronts import Activity
from tests.ml import reference

START = date(2020, 1, 1)
MEMBERS = ("IRN", "PAK", "IRQ", "SYR", "nsa:jaish-al-adl", "nsa:bla", "civ:PAK", "civ:IRN")


def _links(rng: random.Random, n: int) -> list[tuple[str, EventFact, int]]:
    """Events of random dyads, a fifth of them linked to a second dyad of their initiator (a territorial link)."""
    out = []
    for event in range(n):
        a, b = rng.sample(MEMBERS, 2)
        fact = EventFact(occurred_on=START + timedelta(days=rng.randrange(0, 120)), initiator=a, target=b,
                         hostility=rng.randint(1, 5), rung=6, fatalities=rng.choice([0, 0, 1, 9, 30]))
        out.append(("--".join(sorted((a, b))), fact, event))
        if rng.random() < 0.2 and (c := rng.choice(MEMBERS)) not in (a, b):
            out.append(("--".join(sorted((a, c))), fact, event))
    return out


def test_fronts_equal_a_brute_force_count_over_every_link():
    rng = random.Random(3)
    checked = 0
    for _ in range(30):
        links = _links(rng, rng.randrange(0, 60))
        activity = Activity.of_histories([(d, [(event, f)]) for d, f, event in links])
        for _ in range(20):
            a, b = rng.sample(MEMBERS, 2)
            dyad = "--".join(sorted((a, b)))
            as_of = START + timedelta(days=rng.randrange(-5, 160))
            got = activity.fronts(dyad, (a, b), as_of.toordinal())
            count, deaths, named = reference.fronts(links, dyad, as_of)
            assert (got.count, got.deaths, list(got.dyads)) == (count, deaths, named), (dyad, as_of)
            checked += count > 0
    assert checked > 100  # most draws had fronts to count


def test_civilians_open_no_front_and_the_window_is_thirty_days():
    strike = EventFact(occurred_on=date(2024, 1, 16), initiator="IRN", target="IRQ", hostility=4, rung=6, fatalities=4)
    on_civilians = EventFact(occurred_on=date(2024, 1, 16), initiator="SYR", target="civ:PAK", hostility=4, rung=6,
                             fatalities=7)
    activity = Activity.of_histories([("IRN--IRQ", [(1, strike)]), ("SYR--civ:PAK", [(2, on_civilians)])])
    day = date(2024, 1, 16).toordinal()
    fronts = activity.fronts("IRN--PAK", ("IRN", "PAK"), day)
    assert (fronts.count, fronts.deaths, fronts.dyads) == (1, 4, (("IRN--IRQ", 4),))
    # Pakistan's civilians struck by Syria are no front of a dyad of Pakistani civilians
    assert activity.fronts("IRN--civ:PAK", ("IRN", "civ:PAK"), day).dyads == (("IRN--IRQ", 4),)
    assert activity.fronts("IRN--PAK", ("IRN", "PAK"), day + 29).count == 1
    assert activity.fronts("IRN--PAK", ("IRN", "PAK"), day + 30) is NO_FRONTS
    assert activity.fronts("IRN--PAK", ("IRN", "PAK"), day - 1) is NO_FRONTS
    assert activity.fronts("IRN--IRQ", ("IRN", "IRQ"), day) is NO_FRONTS  # its own events are no other front


def test_an_event_of_the_dyad_itself_is_no_other_front():
    """Iran's strike on Jaish al-Adl in Pakistan links IRN--nsa:jaish-al-adl and IRN--PAK: one act, not a front
    of either; a strike of its own on Iraq is."""
    seed = EventFact(occurred_on=date(2024, 1, 16), initiator="IRN", target="nsa:jaish-al-adl", hostility=4, rung=6,
                     fatalities=2)
    iraq = EventFact(occurred_on=date(2024, 1, 15), initiator="IRN", target="IRQ", hostility=4, rung=6, fatalities=4)
    activity = Activity.of_histories([("IRN--nsa:jaish-al-adl", [(1, seed)]), ("IRN--PAK", [(1, seed)]),
                                      ("IRN--IRQ", [(2, iraq)])])
    day = date(2024, 1, 16).toordinal()
    assert activity.fronts("IRN--PAK", ("IRN", "PAK"), day).dyads == (("IRN--IRQ", 4),)
    assert activity.fronts("IRN--nsa:jaish-al-adl", ("IRN", "nsa:jaish-al-adl"), day).dyads == (("IRN--IRQ", 4),)
    fronts = activity.fronts("IRN--IRQ", ("IRN", "IRQ"), day)
    # for Iraq's dyad both are fronts, but one strike killed its two once
    assert (fronts.count, fronts.deaths, fronts.dyads) == (2, 2, (("IRN--PAK", 2), ("IRN--nsa:jaish-al-adl", 2)))


def test_talks_and_threats_open_no_front():
    talks = EventFact(occurred_on=date(2024, 1, 15), initiator="IRN", target="IRQ", hostility=1, rung=0,
                      deescalation=True)
    threat = EventFact(occurred_on=date(2024, 1, 15), initiator="IRN", target="SYR", hostility=2, rung=2)
    deadly_threat = EventFact(occurred_on=date(2024, 1, 15), initiator="IRN", target="AFG", hostility=2, rung=2,
                              fatalities=1)
    activity = Activity.of_histories([("IRN--IRQ", [(1, talks)]), ("IRN--SYR", [(2, threat)]),
                                      ("AFG--IRN", [(3, deadly_threat)])])
    assert activity.fronts("IRN--PAK", ("IRN", "PAK"), date(2024, 1, 16).toordinal()).dyads == (("AFG--IRN", 1),)
