"""Scoring on ingest, current risk, ranking, history and the change feed, through the real app and model."""

from datetime import date, timedelta

from app.ml.features import LOOKBACK_DAYS
from app.dependencies import get_risk_cache
from app.risk.cache import RiskCache
from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION, event, many


def _seed(client) -> tuple[dict, dict]:
    first = client.post("/v1/events", json=IRAN_STRIKE).json()
    second = client.post("/v1/events", json=PAKISTAN_RETALIATION).json()
    return first, second


def test_each_event_is_stored_with_an_assessment_of_every_dyad_it_touches(client):
    first, second = _seed(client)
    feed = client.get("/v1/assessments").json()["items"]
    by_trigger = {}
    for a in feed:
        by_trigger.setdefault(a["trigger_event_id"], set()).add(a["dyad_id"])
    assert by_trigger[first["id"]] == {d["id"] for d in first["dyads"]}
    assert by_trigger[second["id"]] == {d["id"] for d in second["dyads"]}
    model = client.get("/v1/model").json()
    for a in feed:
        assert a["model_version"] == model["version"]
        assert 0 < a["probability"] < 1 and a["drivers"]
        assert a["level"] in ("low", "elevated", "high", "critical")


def test_seed_scenario_risk_rises_with_retaliation_and_decays_with_quiet(client):
    client.post("/v1/events", json=IRAN_STRIKE)
    after_strike = client.get("/v1/risk", params={"a": "PAK", "b": "IRN", "as_of": "2024-01-16"}).json()
    client.post("/v1/events", json=PAKISTAN_RETALIATION)
    after_retaliation = client.get("/v1/risk", params={"a": "IRN", "b": "PAK", "as_of": "2024-01-18"}).json()
    months_later = client.get("/v1/risk", params={"a": "IRN", "b": "PAK", "as_of": "2024-06-18"}).json()
    assert after_retaliation["dyad_id"] == "IRN--PAK" and after_retaliation["event_count"] == 2
    assert after_retaliation["probability"] > after_strike["probability"]
    assert months_later["probability"] < after_retaliation["probability"]
    assert after_retaliation["last_event_on"] == "2024-01-18"
    # The exchange is in the model's inputs (and stored with the assessment for audit)...
    features = after_retaliation["features"]
    assert features["responses_30d"] == 1 and features["tit_for_tat_chain_30d"] == 2
    assert after_strike["features"]["responses_30d"] == 0
    # ...and in the drivers, in words (tests/ml/test_seed_scenario.py checks the ranking).
    themes = {d["theme"]: d for d in after_retaliation["drivers"]}
    assert "Pakistan struck back two days after Iran's strike" in themes["retaliation"]["label"]


def test_risk_polling_answers_304_while_nothing_changes(client):
    _seed(client)
    r = client.get("/v1/risk", params={"a": "IRN", "b": "PAK"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"
    etag = r.headers["etag"]
    assert r.json()["as_of"] == date.today().isoformat()
    again = client.get("/v1/risk", params={"a": "IRN", "b": "PAK"}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and again.content == b""
    client.post("/v1/events", json=event(PAKISTAN_RETALIATION, source_event_id="later", occurred_on="2024-02-01"))
    changed = client.get("/v1/risk", params={"a": "IRN", "b": "PAK"}, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_a_dyad_with_no_events_gets_its_prior_and_a_bad_member_a_422(client):
    r = client.get("/v1/risk", params={"a": "NOR", "b": "SWE"})
    assert r.status_code == 200 and r.json()["event_count"] == 0 and r.json()["dyad_id"] == "NOR--SWE"
    assert client.get("/v1/risk", params={"a": "PAK", "b": "PAK"}).status_code == 422
    bad = client.get("/v1/risk", params={"a": "PAK", "b": "XYZ"})
    assert bad.status_code == 422 and bad.json()["field"] == "b"


def test_feed_returns_every_assessment_once_in_order(client):
    _seed(client)
    page = client.get("/v1/assessments", params={"limit": 3})
    seen = page.json()["items"]
    cursor = page.json()["next_cursor"]
    while True:
        nxt = client.get("/v1/assessments", params={"after": cursor, "limit": 3})
        if not nxt.json()["items"]:
            break
        seen += nxt.json()["items"]
        cursor = nxt.json()["next_cursor"]
    ids = [a["id"] for a in seen]
    assert ids == sorted(ids) and len(ids) == len(set(ids)) == 4
    empty = client.get("/v1/assessments", params={"after": cursor})
    assert empty.json() == {"items": [], "next_cursor": cursor}
    assert client.get("/v1/assessments", params={"after": cursor},
                      headers={"If-None-Match": empty.headers["etag"]}).status_code == 304


def test_a_late_report_keeps_what_was_said_and_restates_the_current_answer(client):
    _seed(client)
    said_then = client.get("/v1/risk", params={"a": "IRN", "b": "PAK", "as_of": "2024-01-16"}).json()
    late = event(IRAN_STRIKE, source_event_id="late-report", occurred_on="2024-01-10", fatalities=0,
                 civilian_fatalities=0, action="border_violation")
    client.post("/v1/events", json=late)
    # stored history is append-only: the answers given on 16 and 18 January stay as they were...
    series = client.get("/v1/dyads/IRN--PAK/assessments").json()["items"]
    assert [(a["as_of"], a["event_count"], a["reason"]) for a in series] == [
        ("2024-01-16", 1, "created"), ("2024-01-18", 3, "backdated")]
    full = client.get("/v1/dyads/IRN--PAK/assessments", params={"include_superseded": True}).json()["items"]
    assert [(a["as_of"], a["event_count"]) for a in full] == [("2024-01-16", 1), ("2024-01-18", 2),
                                                               ("2024-01-18", 3)]
    # ...one row restates the current answer, and any past date is computed now from every event known
    now_for_then = client.get("/v1/risk", params={"a": "IRN", "b": "PAK", "as_of": "2024-01-16"}).json()
    assert said_then["event_count"] == 1 and now_for_then["event_count"] == 2
    assert client.get("/v1/risk", params={"a": "IRN", "b": "PAK", "as_of": "2024-01-10"}).json()["event_count"] == 1


def test_a_revision_stores_one_assessment_per_touched_dyad_however_long_the_history(client):
    items = [event(PAKISTAN_RETALIATION, source_event_id=f"h{n}", retaliation=False,
                   occurred_on=(date(2020, 1, 1) + timedelta(days=n)).isoformat()) for n in range(600)]
    assert client.post("/v1/events/batch", json={"items": items}).status_code == 200
    before = len(client.get("/v1/assessments", params={"limit": 1000}).json()["items"])
    revised = event(items[0], fatalities=1, civilian_fatalities=0)
    assert client.post("/v1/events", json=revised).json()["status"] == "revised"
    after = client.get("/v1/assessments", params={"after": before, "limit": 1000}).json()["items"]
    assert len(after) == len(client.get(f"/v1/events/{1}").json()["dyads"]) == 2
    assert {a["reason"] for a in after} == {"backdated"}
    # the answer reads the model's look-back window, not the whole history
    assert {a["event_count"] for a in after} == {LOOKBACK_DAYS + 1}  # both ends of the window count


def test_retraction_reassesses_the_dyad(client):
    first, second = _seed(client)
    before = client.get("/v1/risk", params={"a": "IRN", "b": "PAK", "as_of": "2024-01-18"}).json()
    client.delete(f"/v1/events/{second['id']}")
    after = client.get("/v1/risk", params={"a": "IRN", "b": "PAK", "as_of": "2024-01-18"}).json()
    assert after["event_count"] == 1 and after["latest_assessment_id"] != before["latest_assessment_id"]
    retracted = [a for a in client.get("/v1/assessments").json()["items"] if a["reason"] == "retracted"]
    assert {a["dyad_id"] for a in retracted} == {d["id"] for d in second["dyads"]}


def test_batch_scores_each_dyad_once(client):
    items = many(200)
    body = client.post("/v1/events/batch", json={"items": items}).json()
    assert body["created"] == 200
    feed = client.get("/v1/assessments", params={"limit": 1000}).json()["items"]
    # five dyads, each assessed once, as of its last event
    assert len({a["dyad_id"] for a in feed}) == 5
    assert len(feed) == 5
    last = {}
    for item in items:
        key = "--".join(sorted((item["actor1"]["country"], item["actor2"]["country"])))
        last[key] = max(last.get(key, ""), item["occurred_on"])
    assert {a["dyad_id"]: a["as_of"] for a in feed} == last
    assert {a["event_count"] for a in feed} == {40}


def test_dyads_are_ranked_by_current_risk(client):
    _seed(client)
    client.post("/v1/events/batch", json={"items": many(20, start_year=2024)})
    ranked = client.get("/v1/dyads").json()["items"]
    probs = [d["current"]["probability"] for d in ranked]
    assert probs == sorted(probs, reverse=True) and len(ranked) == 7
    pak = client.get("/v1/dyads", params={"country": "PAK"}).json()["items"]
    assert {d["id"] for d in pak} == {"IRN--PAK", "IND--PAK", "PAK--nsa:baluchistan-liberation-army"}
    one = client.get("/v1/dyads/IRN--PAK").json()
    assert one["current"]["as_of"] == date.today().isoformat()
    high = client.get("/v1/dyads", params={"min_level": "critical"}).json()["items"]
    assert all(d["current"]["level"] == "critical" for d in high)
    assert client.get("/v1/dyads/NOR--SWE").status_code == 404


def test_model_card_and_metrics_are_served(client):
    client.post("/v1/events", json=IRAN_STRIKE)
    card = client.get("/v1/model").json()
    assert card["version"] and card["targets"]
    client.get("/health/live")
    metrics = client.get("/metrics").text
    assert "escalation_http_requests_total" in metrics and "escalation_scoring_seconds" in metrics
    assert 'escalation_events_ingested_total{status="created"}' in metrics


def test_readiness_checks_database_migrations_and_model(client):
    r = client.get("/health/ready")
    assert r.status_code == 200
    assert {k: v["ok"] for k, v in r.json()["checks"].items()} == {"database": True, "migrations": True, "model": True}


def test_current_risk_today_is_lower_than_right_after_the_exchange(client):
    _seed(client)
    today = client.get("/v1/risk", params={"a": "IRN", "b": "PAK"}).json()
    then = client.get("/v1/risk", params={"a": "IRN", "b": "PAK", "as_of": "2024-01-18"}).json()
    assert today["probability"] < then["probability"]
    assert date.fromisoformat(today["as_of"]) - date.fromisoformat(then["as_of"]) > timedelta(days=300)


def test_a_fresh_batch_is_not_labelled_backdated(client):
    body = client.post("/v1/events/batch", json={"items": many(10)}).json()
    assert body["created"] == 10
    assert {a["reason"] for a in client.get("/v1/assessments").json()["items"]} == {"created"}


def test_ranking_survives_a_cache_smaller_than_the_dyads(client):
    small = RiskCache(size=2)
    client.app.dependency_overrides[get_risk_cache] = lambda: small
    client.post("/v1/events/batch", json={"items": many(20)})
    assert len(client.get("/v1/dyads").json()["items"]) == 5


def test_member_ids_are_matched_case_insensitively_and_star_etag_matches(client):
    _seed(client)
    r = client.get("/v1/risk", params={"a": "irn", "b": "NSA:Jaish-Al-Adl"})
    assert r.status_code == 200 and r.json()["dyad_id"] == "IRN--nsa:jaish-al-adl"
    assert client.get("/v1/risk", params={"a": "IRN", "b": "PAK"}, headers={"If-None-Match": "*"}).status_code == 304


def _inside(answer: dict) -> None:
    interval = answer["interval"]
    assert interval["level"] == 0.9
    assert 0 <= interval["low"] <= answer["probability"] <= interval["high"] <= 1


def test_every_probability_is_served_with_its_interval(client):
    _seed(client)
    for a in client.get("/v1/assessments").json()["items"]:  # stored, and so in the feed, stream and webhooks
        _inside(a)
    risk = client.get("/v1/risk", params={"a": "IRN", "b": "PAK", "as_of": "2024-01-18"}).json()
    _inside(risk)
    assert risk["interval"]["high"] > risk["interval"]["low"]
    _inside(client.get("/v1/risk", params={"a": "IND", "b": "PAK"}).json())  # a pair with no events
    for d in client.get("/v1/dyads").json()["items"]:
        _inside(d["current"])
    for a in client.get("/v1/dyads/IRN--PAK/assessments").json()["items"]:
        _inside(a)
    what_if = client.post("/v1/risk/what-if", json={"a": "IRN", "b": "PAK", "events": [
        event(source="what-if", source_event_id="1", occurred_on="2024-01-20", fatalities=30)]}).json()
    _inside(what_if)
