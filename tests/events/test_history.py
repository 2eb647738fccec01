"""History windows read as columns equal the per-event reference read (`tests/ml/reference.py`), through the
real app and database: out-of-order dates, several kinds of actor, unknown fatalities, retractions."""

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.events import history
from app.storage import windows as storage_windows
from app.events.models import Dyad
from app.ml.features import LOOKBACK_DAYS
from tests.ml import reference

STATES = ["IRN", "PAK", "AFG", "IND"]
ACTIONS = ["attack", "clash", "talks", "ceasefire", "threat_to_use_force", "show_of_force", "border_violation", "war"]


def _events(rng: random.Random, n: int) -> list[dict]:
    out = []
    for i in range(n):
        a, b, where = rng.choice(STATES), rng.choice(STATES), rng.choice(STATES)
        kind = rng.choice(["state", "state", "non_state", "civilians"])
        actor2 = ({"name": b, "country": b, "kind": "state"} if kind == "state" else
                  {"name": rng.choice(["Jaish al-Adl", "BLA"]), "kind": "non_state"} if kind == "non_state" else
                  {"name": "civilians", "kind": "civilians"})
        body = {
            "source": "history", "source_event_id": f"h-{i}",
            "occurred_on": (date(2020, 1, 1) + timedelta(days=rng.randrange(0, 1500))).isoformat(),
            "actor1": {"name": a, "country": a, "kind": "state"}, "actor2": actor2,
            "location": {"country": where}, "action": rng.choice(ACTIONS),
            "weapons": rng.sample(["drone", "artillery", "small_arms", "missile"], rng.randrange(0, 3)),
            "retaliation": rng.random() < 0.2,
        }
        if rng.random() < 0.8:  # otherwise unknown
            body["fatalities"] = rng.choice([0, 1, 5, 30])
            body["civilian_fatalities"] = min(body["fatalities"], rng.choice([0, 2]))
        out.append(body)
    return out


@pytest.mark.parametrize("chunk", [history.READ_CHUNK, 7])  # 7: many chunks, members recoded across them
def test_windows_equal_the_reference_read(client, monkeypatch, chunk):
    monkeypatch.setattr(history, "READ_CHUNK", chunk)
    rng = random.Random(4)
    events = _events(rng, 400)
    for k in range(0, len(events), 100):  # shuffled dates: later batches reach behind earlier ones
        r = client.post("/v1/events/batch", json={"items": events[k:k + 100]})
        assert r.status_code == 200, r.text
    ids = [item["id"] for item in client.get("/v1/events", params={"limit": 500}).json()["items"]]
    for event_id in rng.sample(ids, 40):
        assert client.delete(f"/v1/events/{event_id}").status_code == 200
    with client.app.state.sessionmaker() as session:
        dyads = sorted(session.scalars(select(Dyad.id)))
        assert len(dyads) > 10
        deep, long = set(), set()
        for until in (None, date(2020, 6, 1), date(2021, 7, 15), date(2019, 1, 1)):
            new = history.windows(session, dyads, LOOKBACK_DAYS, until=until)
            old = reference.windows(session, dyads, LOOKBACK_DAYS, until=until)
            assert list(new) == list(old)
            for d in dyads:
                assert (new[d].last_on, new[d].in_window) == (old[d].last_on, old[d].in_window), d
                assert list(new[d].facts) == old[d].facts, d
                deep |= {d} if len(old[d].facts) > old[d].in_window else set()  # a first event before the window
                long |= {d} if len(old[d].facts) > 5 else set()
        assert deep and long


# (1,): past one retracted end link, straight to the search with the liveness test inside
@pytest.mark.parametrize("probes", [storage_windows.PROBES, (1,)])
def test_heads_past_retracted_ends_and_ties(client, monkeypatch, probes):
    """A dyad's last live date and first live event when its end links are retracted, tied on a date, all
    retracted, or after `until`; and a dyad that does not exist."""
    monkeypatch.setattr(storage_windows, "PROBES", probes)
    plan = [  # (pair, date, retracted): ids are drawn in this order, so ties are broken by it
        ("IRN", "PAK", "2019-01-01", True), ("IRN", "PAK", "2019-01-01", False), ("IRN", "PAK", "2021-03-01", False),
        ("IRN", "PAK", "2021-06-01", True), ("IRN", "PAK", "2021-06-01", False),
        ("IND", "PAK", "2021-05-01", False), ("IND", "PAK", "2021-06-01", False), ("IND", "PAK", "2021-06-01", True),
        ("AFG", "PAK", "2021-06-01", True), ("AFG", "PAK", "2021-06-01", True),
        ("AFG", "IRN", "2020-01-01", False), ("AFG", "IRN", "2022-01-01", True), ("AFG", "IRN", "2022-02-01", False),
        *[("AFG", "IND", f"2021-04-0{d}", True) for d in range(1, 10)],  # 9 retracted at the first end
        *[("AFG", "IND", f"2021-05-{d:02d}", True) for d in range(1, 19)],  # 18 at the last: past every probe
        ("AFG", "IND", "2021-04-20", False),
    ]
    items = [{"source": "heads", "source_event_id": f"k{n}", "occurred_on": day,
              "actor1": {"name": a, "country": a, "kind": "state"},
              "actor2": {"name": b, "country": b, "kind": "state"},
              "location": {"country": b}, "action": "attack", "fatalities": 1}
             for n, (a, b, day, _) in enumerate(plan)]
    r = client.post("/v1/events/batch", json={"items": items})
    assert r.status_code == 200, r.text
    for item, (*_, retracted) in zip(r.json()["items"], plan):
        if retracted:
            assert client.delete(f"/v1/events/{item['id']}").status_code == 200
    with client.app.state.sessionmaker() as session:
        dyads = sorted(session.scalars(select(Dyad.id))) + ["NOPE--NOWHERE"]
        for until in (None, date(2021, 12, 31), date(2021, 6, 1), date(2021, 4, 30)):
            new = history.windows(session, dyads, LOOKBACK_DAYS, until=until)
            old = reference.windows(session, dyads[:-1], LOOKBACK_DAYS, until=until)
            for d in dyads[:-1]:
                assert (new[d].last_on, new[d].in_window, list(new[d].facts)) == (
                    old[d].last_on, old[d].in_window, old[d].facts), (d, until)
            assert new["NOPE--NOWHERE"].last_on is None and len(new["NOPE--NOWHERE"].facts) == 0
        asked = ["IRN--PAK", "IND--PAK", "AFG--PAK", "AFG--IND", "AFG--IRN"]
        heads = storage_windows.heads(session, asked, date(2021, 12, 31))
        ids = {n: item["id"] for n, item in enumerate(r.json()["items"])}
        assert heads["IRN--PAK"] == (date(2021, 6, 1), ids[1])  # the live one of the tied first day
        assert heads["IND--PAK"] == (date(2021, 6, 1), ids[5])
        assert heads["AFG--PAK"] == (None, None)
        assert heads["AFG--IND"] == (date(2021, 4, 20), ids[len(plan) - 1])
        assert heads["AFG--IRN"] == (date(2020, 1, 1), ids[10])
