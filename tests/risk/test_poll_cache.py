"""Polls answered by the guard from the serialised cache (app.guards.Guard, app.risk.cache.PollAnswers):
the same bytes and headers as the route, after the same authentication, scopes and rate limits,
counted in the metrics, and never once the feed head has moved or the day has changed."""

import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from app import guards
from app.auth import service as keys
from app.config import Settings
from app.main import create_app
from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION, event

RISK = {"a": "IRN", "b": "PAK"}
BOOTSTRAP = "b" * 40


def _count_route_answers(app) -> list:
    """Each call the route makes to `remember`: the route answered; the guard answers without one."""
    calls = []
    answers = app.state.answers
    remember = answers.remember
    answers.remember = lambda *args, **kw: (calls.append(args[1]), remember(*args, **kw))
    return calls


def _with(settings: Settings, **changes) -> Settings:
    return Settings(**{**settings.model_dump(), **changes})


@pytest.fixture
def client(settings: Settings, scorer):
    """These tests watch the shortcut itself, so its check mode is off here: with it on, every cached answer is
    routed as well (tested last in this module)."""
    with TestClient(create_app(_with(settings, check_fast_paths=False), scorer)) as c:
        yield c



def _headers(response) -> dict:
    """The answer's headers but the request id, which is each request's own."""
    return {k: v for k, v in response.headers.items() if k != "x-request-id"}

def test_a_repeated_poll_is_answered_from_the_cache_with_the_routes_bytes_and_headers(client):
    client.post("/v1/events", json=IRAN_STRIKE)
    routed = _count_route_answers(client.app)
    first = client.get("/v1/risk", params=RISK)
    assert len(routed) == 1
    cached = client.get("/v1/risk", params=RISK)
    not_modified = client.get("/v1/risk", params=RISK, headers={"If-None-Match": f'W/"x", {first.headers["etag"]}'})
    assert len(routed) == 1  # both answered before routing
    assert cached.status_code == 200 and cached.content == first.content
    assert _headers(cached) == _headers(first)
    assert cached.headers["content-type"] == "application/json"
    assert cached.headers["x-content-type-options"] == "nosniff"
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == first.headers["etag"] and not_modified.headers["cache-control"] == "no-cache"
    assert not_modified.headers["x-content-type-options"] == "nosniff"
    # A write moves the feed head: the next poll goes to the route and gets the new answer.
    client.post("/v1/events", json=PAKISTAN_RETALIATION)
    changed = client.get("/v1/risk", params=RISK, headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.json()["last_event_on"] == PAKISTAN_RETALIATION["occurred_on"]
    assert len(routed) == 2
    # Counted under the route's template, whoever answered.
    metrics = client.get("/metrics").text
    ok = re.search(r'escalation_http_requests_total\{method="GET",route="/v1/risk",status="200"\} (\S+)', metrics)
    nm = re.search(r'escalation_http_requests_total\{method="GET",route="/v1/risk",status="304"\} (\S+)', metrics)
    assert ok and nm and float(nm.group(1)) >= 1 and float(ok.group(1)) >= 3


def test_an_answer_for_today_is_not_served_the_next_day(client, monkeypatch):
    client.post("/v1/events", json=IRAN_STRIKE)
    routed = _count_route_answers(client.app)
    client.get("/v1/risk", params=RISK)
    monkeypatch.setattr(guards, "utc_today", lambda: date.today() + timedelta(days=1))
    assert client.get("/v1/risk", params=RISK).status_code == 200
    assert len(routed) == 2  # no stored answer for that day: the route answered
    dated = {**RISK, "as_of": "2024-01-20"}
    client.get("/v1/risk", params=dated)
    client.get("/v1/risk", params=dated)
    assert len(routed) == 3  # an explicit date names the same answer on any day


def test_an_invalid_poll_is_never_answered_from_the_cache(client):
    client.post("/v1/events", json=IRAN_STRIKE)
    client.get("/v1/risk", params=RISK)
    bad = client.get("/v1/risk", params={"a": "IRN", "b": "PAK", "as_of": "yesterday"})
    assert bad.status_code == 422 and bad.json()["error"]
    assert client.get("/v1/risk", params={"a": "IRN", "b": "PAK", "as_of": "yesterday"}).status_code == 422


def test_a_full_feed_page_is_served_again_without_a_query_and_the_empty_page_waits_for_the_head(client):
    client.post("/v1/events", json=IRAN_STRIKE)
    client.post("/v1/events", json=PAKISTAN_RETALIATION)
    routed = _count_route_answers(client.app)
    full = client.get("/v1/assessments", params={"limit": 2})
    assert len(full.json()["items"]) == 2
    again = client.get("/v1/assessments", params={"limit": 2})
    assert again.content == full.content and _headers(again) == _headers(full)
    assert client.get("/v1/assessments", params={"limit": 2},
                      headers={"If-None-Match": full.headers["etag"]}).status_code == 304
    assert len(routed) == 1
    # A page that is not full may grow: never answered from the cache.
    cursor = full.json()["next_cursor"]
    tail = client.get("/v1/assessments", params={"after": cursor, "limit": 1000}).json()
    client.post("/v1/events", json=event(IRAN_STRIKE, source_event_id="later", occurred_on="2024-02-01"))
    grown = client.get("/v1/assessments", params={"after": cursor, "limit": 1000}).json()
    assert len(grown["items"]) > len(tail["items"])


@pytest.fixture
def keyed(settings, scorer):
    app = create_app(_with(settings, bootstrap_api_key=BOOTSTRAP, rate_limit_per_key="4/minute"), scorer)
    with TestClient(app) as c:
        with c.app.state.write_sessionmaker.begin() as session:
            c.reader = keys.create(session, "reader", ["read"])[1]
            c.ingester = keys.create(session, "ingester", ["ingest"])[1]
        c.app.state.keyring.load()
        yield c


def test_a_cached_poll_still_needs_a_key_with_the_read_scope_and_counts_against_its_rate(keyed):
    assert keyed.post("/v1/events", json=IRAN_STRIKE, headers={"X-API-Key": BOOTSTRAP}).status_code == 201
    reader = {"X-API-Key": keyed.reader}
    first = keyed.get("/v1/risk", params=RISK, headers=reader)
    assert first.status_code == 200
    anonymous = keyed.get("/v1/risk", params=RISK)
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    unknown = keyed.get("/v1/risk", params=RISK, headers={"X-API-Key": "x" * 40})
    assert unknown.status_code == 401 and unknown.json()["error"] == "unauthorized"
    wrong_scope = keyed.get("/v1/risk", params=RISK, headers={"X-API-Key": keyed.ingester})
    assert wrong_scope.status_code == 403 and wrong_scope.json()["error"] == "forbidden"
    codes = [keyed.get("/v1/risk", params=RISK, headers=reader).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]  # four a minute: the first poll and three more


def test_a_long_query_string_is_answered_by_the_route_every_time(client):
    client.post("/v1/events", json=IRAN_STRIKE)
    routed = _count_route_answers(client.app)
    padded = {**RISK, "padding": "x" * 300}  # an ignored parameter: still a valid poll
    first = client.get("/v1/risk", params=padded)
    second = client.get("/v1/risk", params=padded)
    assert first.status_code == second.status_code == 200 and first.content == second.content
    assert len(routed) == 2


def test_a_cached_poll_whose_head_cannot_be_read_is_a_503_never_a_stale_answer(client, monkeypatch):
    client.post("/v1/events", json=IRAN_STRIKE)
    etag = client.get("/v1/risk", params=RISK).headers["etag"]

    async def unreachable():
        raise OperationalError("SELECT coalesce(max(id), 0) FROM assessment", None,
                               Exception("connection refused"))

    monkeypatch.setattr(client.app.state.feed_head, "read", unreachable)
    for headers in ({}, {"If-None-Match": etag}):
        r = client.get("/v1/risk", params=RISK, headers=headers)
        assert r.status_code == 503 and r.json()["error"] == "database_unavailable"
        assert r.headers["retry-after"] == "5" and r.headers["x-content-type-options"] == "nosniff"



@pytest.mark.parametrize("check", [True, False], ids=["check mode", "no check"])
def test_check_mode_fails_a_poll_whose_cached_answer_is_wrong(settings, scorer, check, caplog):
    """ESCALATION_CHECK_FAST_PATHS (on in every other test): a cached poll answer that differs from what the route
    answers fails the request loudly; without the check the shortcut sends what it holds."""
    from app import errors

    with TestClient(create_app(_with(settings, check_fast_paths=check), scorer)) as c:
        c.post("/v1/events", json=IRAN_STRIKE)
        first = c.get("/v1/risk", params=RISK)
        answers = c.app.state.answers
        key = next(k for k in answers._data if k[:2] == ("risk", ("IRN", "PAK")))
        held = answers.get(key)
        answers.put(key, type(held)(held.head, held.etag, held.body.replace(b'"IRN--PAK"', b'"IRN--XXX"')))
        if check:  # a 500 with the error shape; the mismatch is logged with its traceback
            with caplog.at_level("ERROR", logger="escalation.errors"):
                failed = c.get("/v1/risk", params=RISK)
            assert failed.status_code == 500 and failed.json()["error"] == "internal_error"
            assert any(r.exc_info and isinstance(r.exc_info[1], errors.FastPathMismatch)
                       and "poll shortcut: /v1/risk" in str(r.exc_info[1]) for r in caplog.records)
        else:
            wrong = c.get("/v1/risk", params=RISK)
            assert wrong.status_code == 200 and wrong.content != first.content and b"IRN--XXX" in wrong.content
