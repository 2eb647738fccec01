"""Risk through time: each point of `GET /v1/dyads/{id}/series` is the answer `GET /v1/risk?as_of=` gives for its
date; the what-if series is the what-if answer on each date; bad ranges are a 422; nothing is stored."""

import random
from datetime import date, timedelta

import numpy as np
from sqlalchemy import func, select

from app.events import history
from app.ml.features import INDEX, LOOKBACK_DAYS, build_features
from app.risk.models import Assessment
from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION, event

POINT_FIELDS = ("as_of", "probability", "interval", "level", "last_event_on", "event_count")


def _as_of(client, a: str, b: str, day: str) -> dict:
    r = client.get("/v1/risk", params={"a": a, "b": b, "as_of": day})
    assert r.status_code == 200, r.text
    return r.json()


def _same(point: dict, answer: dict) -> None:
    assert {k: point[k] for k in POINT_FIELDS} == {k: answer[k] for k in POINT_FIELDS}
    assert point["drivers"] == [{k: d[k] for k in ("theme", "contribution", "label")} for d in answer["drivers"][:3]]


def test_the_seed_through_time_equals_each_dates_answer(client):
    client.post("/v1/events/batch", json=[IRAN_STRIKE, PAKISTAN_RETALIATION])
    r = client.get("/v1/dyads/IRN--PAK/series", params={"from": "2024-01-01", "to": "2024-07-20", "step": 3})
    assert r.status_code == 200, r.text
    series = r.json()
    points = series["points"]
    assert series["step_days"] == 3 and series["members"] == ["IRN", "PAK"] and series["kind"] == "state_state"
    assert points[0]["as_of"] == "2024-01-01" and points[-1]["as_of"] == "2024-07-20" and len(points) == 68
    for point in points:
        _same(point, _as_of(client, "IRN", "PAK", point["as_of"]))
    before, peak, later = points[0], max(points, key=lambda p: p["probability"]), points[-1]
    assert before["event_count"] == 0 and before["last_event_on"] is None
    assert peak["as_of"] in ("2024-01-18", "2024-01-19") and peak["level"] == "elevated"
    assert later["probability"] < peak["probability"] / 10


def _dense_history(rng: random.Random, first: date, days: int) -> list[dict]:
    """A dyad struck back and forth every few days for years (tit-for-tat chains far longer than the look-back),
    with a quiet gap longer than the look-back, talks, deaths and retaliation flags."""
    out, day, n = [], first, 0
    while day < first + timedelta(days=days):
        if date(2019, 3, 1) <= day < date(2020, 9, 1):  # 550 quiet days: the next window starts after the first event
            day = date(2020, 9, 1)
        by, at = ("IND", "PAK") if n % 2 else ("PAK", "IND")
        action = rng.choice(["attack", "attack", "clash", "show_of_force", "threat_to_use_force", "talks"])
        out.append(event(source="dense", source_event_id=f"d{n}", occurred_on=day.isoformat(),
                         actor1={"name": by, "country": by, "kind": "state"},
                         actor2={"name": at, "country": at, "kind": "state"},
                         location={"country": rng.choice([at, by])}, action=action,
                         weapons=rng.choice([[], ["artillery"], ["drone"]]),
                         fatalities=rng.choice([0, 0, 1, 3, 12, 40]), civilian_fatalities=0,
                         retaliation=rng.random() < 0.2, notes=None))
        day += timedelta(days=rng.randint(1, 9))
        n += 1
    return out


def test_a_dense_history_with_long_chains_and_a_retraction_equals_each_dates_answer(client):
    rng = random.Random(7)
    events = _dense_history(rng, date(2016, 1, 1), 6 * 365)
    for start in range(0, len(events), 500):
        assert client.post("/v1/events/batch", json=events[start:start + 500]).status_code == 200
    listed = client.get("/v1/events", params={"dyad": "IND--PAK", "limit": 1000}).json()["items"]
    assert client.delete(f"/v1/events/{listed[len(listed) // 2]['id']}").status_code == 200
    r = client.get("/v1/dyads/IND--PAK/series", params={"from": "2016-01-01", "to": "2021-12-31", "step": 11})
    assert r.status_code == 200, r.text
    points = r.json()["points"]
    for point in points:
        _same(point, _as_of(client, "IND", "PAK", point["as_of"]))
    # The case the per-date windows exist for: a chain that one long read would count from further back.
    with client.app.state.sessionmaker() as session:
        whole = history.span(session, "IND--PAK", date(2016, 1, 1), date(2021, 12, 31), 4000)
    scorer = client.app.state.scorer
    chain = INDEX["tit_for_tat_chain_30d"]
    longer = [p for p in points if build_features(whole.facts, date.fromisoformat(p["as_of"]), scorer.context_for(
        "IND", "PAK", date.fromisoformat(p["as_of"])))[chain] > _as_of(client, "IND", "PAK", p["as_of"])[
        "features"]["tit_for_tat_chain_30d"]]
    assert longer, "no date where the whole history's chain is longer than the window's: the test lost its point"


def test_the_what_if_series_is_the_what_if_answer_on_each_date_and_stores_nothing(client):
    client.post("/v1/events/batch", json=[IRAN_STRIKE, PAKISTAN_RETALIATION])
    stored = lambda: client.app.state.sessionmaker()  # noqa: E731
    with stored() as s:
        before = s.scalar(select(func.count()).select_from(Assessment))
    again = event(IRAN_STRIKE, source_event_id="hypothetical", occurred_on="2024-01-25", fatalities=30,
                  civilian_fatalities=0)
    body = {"a": "PAK", "b": "IRN", "events": [again], "from": "2024-01-10", "to": "2024-03-01", "step": 5}
    r = client.post("/v1/risk/what-if/series", json=body)
    assert r.status_code == 200, r.text
    what_if = r.json()["points"]
    plain = client.get("/v1/dyads/IRN--PAK/series", params={"from": "2024-01-10", "to": "2024-03-01", "step": 5}).json()
    for point, real in zip(what_if, plain["points"]):
        single = client.post("/v1/risk/what-if", json={"a": "PAK", "b": "IRN", "events": [again],
                                                       "as_of": point["as_of"]}).json()
        _same(point, single)
        if point["as_of"] < "2024-01-25":
            assert point == real
        else:
            assert point["probability"] > real["probability"]
    with stored() as s:
        assert s.scalar(select(func.count()).select_from(Assessment)) == before


def test_a_series_answers_304_until_the_history_changes(client):
    client.post("/v1/events", json=IRAN_STRIKE)
    params = {"from": "2024-01-01", "to": "2024-02-01"}
    first = client.get("/v1/dyads/IRN--PAK/series", params=params)
    etag = first.headers["etag"]
    assert client.get("/v1/dyads/IRN--PAK/series", params=params, headers={"If-None-Match": etag}).status_code == 304
    client.post("/v1/events", json=PAKISTAN_RETALIATION)
    again = client.get("/v1/dyads/IRN--PAK/series", params=params, headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.json() != first.json()


def test_series_defaults_and_bad_ranges(client):
    client.post("/v1/events", json=IRAN_STRIKE)
    today = client.get("/v1/risk", params={"a": "IRN", "b": "PAK"}).json()["as_of"]
    points = client.get("/v1/dyads/IRN--PAK/series").json()["points"]
    end = date.fromisoformat(today)
    assert points[0]["as_of"] == (end - timedelta(days=365)).isoformat() and points[-1]["as_of"] == today
    assert np.all(np.diff([date.fromisoformat(p["as_of"]).toordinal() for p in points[:-1]]) == 7)
    for params, field in [({"from": "2024-02-01", "to": "2024-01-01"}, "from"),
                          ({"from": "1900-01-01", "to": "2024-01-01", "step": 1}, "step"),
                          ({"to": (end + timedelta(days=1)).isoformat()}, "to"),
                          ({"from": "1799-12-31"}, "from"), ({"step": 0}, "step"), ({"from": "2024-1-1"}, "from")]:
        r = client.get("/v1/dyads/IRN--PAK/series", params=params)
        assert r.status_code == 422, (params, r.text)
        assert field in r.text, (params, r.text)
    assert client.get("/v1/dyads/IND--PAK/series").status_code == 404
    bad = client.post("/v1/risk/what-if/series", json={"a": "IRN", "b": "PAK", "events": [IRAN_STRIKE],
                                                      "from": "2024-03-01", "to": "2024-01-01"})
    assert bad.status_code == 422 and "from" in bad.text
    assert LOOKBACK_DAYS < 550  # the dense test's quiet gap outlasts the look-back


def test_a_long_series_is_scored_in_bounded_parts_with_the_same_answer(client, monkeypatch):
    from app.risk import service as risk_service

    events = _dense_history(random.Random(3), date(2016, 1, 1), 3 * 365)
    assert client.post("/v1/events/batch", json=events).status_code == 200
    params = {"from": "2016-01-01", "to": "2018-12-31", "step": 3}
    whole = client.get("/v1/dyads/IND--PAK/series", params=params).json()
    runs = []
    original = history.in_batches
    monkeypatch.setattr(risk_service, "SERIES_BATCH_FACTS", 500)
    monkeypatch.setattr(history, "in_batches", lambda *a, **k: (runs.append(r) or r for r in original(*a, **k)))
    parts = client.get("/v1/dyads/IND--PAK/series", params={**params, "step": 3}, headers={"If-None-Match": "none"})
    assert parts.json() == whole and len(runs) > 5
    assert max(sum(len(w.facts) for w in {id(w): w for w in windows}.values()) for _, windows in runs) <= 500


def test_the_number_of_dates_counts_the_last_one(client):
    from app.risk import service as risk_service

    start = date(2000, 1, 1)
    assert len(risk_service.series_dates(start, start + timedelta(days=3999), 1)) == 4000
    assert len(risk_service.series_dates(start, start + timedelta(days=7998), 2)) == 4000
    r = client.get("/v1/dyads/IRN--PAK/series", params={"from": "2000-01-01", "to": "2021-11-25", "step": 2})
    assert r.status_code == 422 and "4001 dates" in r.json()["detail"]


def test_a_what_if_resending_a_stored_event_stands_for_its_revision(client):
    client.post("/v1/events/batch", json=[IRAN_STRIKE, PAKISTAN_RETALIATION])
    stored = _as_of(client, "IRN", "PAK", "2024-01-18")
    same = client.post("/v1/risk/what-if", json={"a": "IRN", "b": "PAK", "as_of": "2024-01-18",
                                                 "events": [PAKISTAN_RETALIATION]}).json()
    assert {k: same[k] for k in POINT_FIELDS} == {k: stored[k] for k in POINT_FIELDS}
    deadlier = client.post("/v1/risk/what-if", json={"a": "IRN", "b": "PAK", "as_of": "2024-01-18", "events": [
        event(PAKISTAN_RETALIATION, fatalities=90, civilian_fatalities=7)]}).json()
    assert deadlier["event_count"] == stored["event_count"] == 2 and deadlier["probability"] > stored["probability"]


def test_a_dyad_whose_events_are_all_retracted_has_a_series_of_priors(client):
    created = client.post("/v1/events", json=IRAN_STRIKE).json()
    assert client.delete(f"/v1/events/{created['id']}").status_code == 200
    points = client.get("/v1/dyads/IRN--PAK/series", params={"from": "2024-01-01", "to": "2024-02-01"}).json()["points"]
    assert points and all(p["event_count"] == 0 and p["last_event_on"] is None for p in points)
    assert client.get("/dashboard/dyads/IRN--PAK").status_code == 200
