"""History windows read as columns equal the per-event reference read (`tests/ml/reference.py`), through the
real app and database: out-of-order dates, several kinds of actor, unknown fatalities, retractions."""

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.events import history
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
