"""The rows one request can cause are bounded by what it touches, not by the length of a dyad's history."""

from datetime import date, timedelta

from sqlalchemy import func, select

from app.risk.models import Assessment
from tests.factories import many

DAYS = 300


def _dyad_history(n: int) -> list[dict]:
    start = date(2020, 1, 1)
    return [{"source": "amp", "source_event_id": f"amp-{i}", "occurred_on": (start + timedelta(days=i)).isoformat(),
             "actor1": {"name": "India", "country": "IND", "kind": "state"},
             "actor2": {"name": "Pakistan", "country": "PAK", "kind": "state"},
             "location": {"country": "PAK"}, "action": "attack", "fatalities": 1} for i in range(n)]


def _assessments(client) -> int:
    with client.app.state.sessionmaker() as session:
        return session.scalar(select(func.count()).select_from(Assessment))


def test_revising_the_earliest_event_of_a_long_history_inserts_a_bounded_number_of_rows(client):
    history = _dyad_history(DAYS)
    for i in range(0, DAYS, 100):  # one batch per 100 days: every day gets assessed along the way
        for day in range(i, i + 100, 10):
            assert client.post("/v1/events/batch", json={"items": history[day:day + 10]}).status_code == 200
    before = _assessments(client)
    revised = client.post("/v1/events", json={**history[0], "fatalities": 50})
    assert revised.status_code == 200 and revised.json()["status"] == "revised"
    inserted = _assessments(client) - before
    # One event touches at most a few dyads (the initiator's, the target's, the territory's).
    assert inserted <= 3, f"one 1-item revision inserted {inserted} assessment rows"


def test_a_full_batch_inserts_one_row_per_dyad_it_touches(client):
    before = _assessments(client)
    r = client.post("/v1/events/batch", json={"items": many(2000, source="wide")})  # 5 dyads, ~1,700 dates
    assert r.status_code == 200
    assert _assessments(client) - before <= 5
