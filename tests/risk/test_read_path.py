"""The read path answers what the per-event path answered, byte for byte: GET /v1/dyads and GET /v1/risk against
answers rebuilt from the reference history read (`tests/ml/reference.py`), the Scorer on `EventFact` lists and
a `RiskRead` built as before."""

import json
import random
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import text

from app.events import members as member_ids
from app.events.facts import EventFact, Fronts
from app.ml.features import LOOKBACK_DAYS
from app.risk.schemas import RiskRead
from tests.events.test_history import _events
from tests.ml import reference


def _links(session) -> list[tuple[str, EventFact, int]]:
    """Every live (dyad id, fact, event id) link, by brute force: what the fronts are counted from."""
    rows = session.execute(text("SELECT ed.dyad_id, e.occurred_on, e.fatalities, e.id, e.hostility FROM event_dyad ed"
                                " JOIN event e ON e.id = ed.event_id WHERE e.retracted_at IS NULL")).all()
    return [(d, EventFact(occurred_on=on if isinstance(on, date) else date.fromisoformat(on), initiator="", target=None,
                          hostility=hostility, rung=0, fatalities=deaths or 0), event_id)
            for d, on, deaths, event_id, hostility in rows]


def _expected(session, scorer, dyad_ids: list[str], markers: dict[str, int], as_of: date) -> dict[str, bytes]:
    windows = reference.windows(session, dyad_ids, LOOKBACK_DAYS, until=as_of)
    links = _links(session)
    out = {}
    for d in dyad_ids:
        a, b = member_ids.dyad_members(d)
        window = windows[d]
        count, deaths, named = reference.fronts(links, d, as_of)
        context = replace(scorer.context_for(a, b, as_of), fronts=Fronts(count, deaths, tuple(named)))
        score = scorer.score(window.facts, as_of, context)
        out[d] = RiskRead(
            dyad_id=d, members=(a, b), kind=member_ids.dyad_kind(a, b), as_of=as_of,
            probability=score.probabilities[scorer.primary], interval=score.interval,
            probabilities=score.probabilities, level=score.level,
            drivers=score.drivers, explanation=score.explanation, features=score.features,
            model_version=scorer.version, last_event_on=window.last_on, event_count=window.in_window,
            latest_assessment_id=markers[d]).model_dump_json().encode()
    return out


def test_rankings_and_risk_answers_equal_the_validated_reference(client, scorer):
    events = _events(random.Random(8), 300)
    today = datetime.now(timezone.utc).date()  # the service's today
    shift = (today - timedelta(days=200)) - date(2020, 1, 1)  # recent: the last 30 days are not empty
    for e in events:
        e["occurred_on"] = min(date.fromisoformat(e["occurred_on"]) + shift - timedelta(days=1200),
                               today).isoformat()
    for k in range(0, len(events), 100):
        assert client.post("/v1/events/batch", json={"items": events[k:k + 100]}).status_code == 200
    ranking = client.get("/v1/dyads", params={"limit": 500}).json()["items"]
    assert len(ranking) > 10
    markers = {item["id"]: item["current"]["latest_assessment_id"] for item in ranking}
    with client.app.state.sessionmaker() as session:
        expected = _expected(session, scorer, list(markers), markers, today)
    assert [item["current"] for item in ranking] == [json.loads(expected[item["id"]]) for item in ranking]
    assert any(item["current"]["drivers"][0]["facts"] for item in ranking)
    assert any(item["current"]["features"]["events_30d"] > 0 for item in ranking)
    past = today - timedelta(days=100)
    with client.app.state.sessionmaker() as session:
        expected = _expected(session, scorer, list(markers), markers, past)
    for d in list(markers)[:15]:
        a, b = member_ids.dyad_members(d)
        answer = client.get("/v1/risk", params={"a": a, "b": b, "as_of": past.isoformat()})
        assert answer.status_code == 200 and answer.content == expected[d]
