"""Webhooks through the real app: subscriptions, the outbox, signed deliveries to a real receiver, retries,
disabling, and the SSRF guard. The delivery worker is driven round by round here; tests/webhooks/
test_webhook_processes.py runs it inside real server processes."""

import asyncio
import base64
import socket
import threading
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from standardwebhooks import Webhook

from app.auth import service as auth_service
from app.dependencies import get_settings
from app.events.schemas import EventCreate
from app.main import create_app
from app.risk import flow
from app.risk.models import Assessment
from app.webhooks import delivery, retry
from app.webhooks.delivery import Worker
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION, event
from tests.receiver import Receiver


@pytest.fixture
def hook_settings(settings):
    return settings.model_copy(update={"webhooks_worker": False, "webhooks_allow_private": True,
                                       "webhooks_retry_base_seconds": 0.05, "webhooks_timeout_seconds": 2})


@pytest.fixture
def app_client(hook_settings, scorer):
    with TestClient(create_app(hook_settings, scorer)) as c:
        yield c


def _round(client: TestClient, **overrides) -> int:
    """One round of the delivery worker: claim what is due, send it, record the outcome."""
    state = client.app.state
    worker = Worker(state.engine, state.settings.model_copy(update=overrides))

    async def once() -> int:
        async with httpx.AsyncClient(timeout=worker.settings.webhooks_timeout_seconds) as http:
            return await worker.run_once(http)

    return asyncio.run(once())


def _deliveries(client, hook_id: int) -> list[dict]:
    r = client.get(f"/v1/webhooks/{hook_id}/deliveries")
    assert r.status_code == 200, r.text
    return r.json()["items"]


def _subscribe(client, url: str, **filters) -> dict:
    r = client.post("/v1/webhooks", json={"url": url, "filters": filters})
    assert r.status_code == 201, r.text
    return r.json()


def test_a_subscription_returns_its_secret_once(app_client):
    hook = _subscribe(app_client, "http://127.0.0.1:9/hook")
    assert hook["secret"].startswith("whsec_") and len(base64.b64decode(hook["secret"][6:])) >= 24
    listed = app_client.get("/v1/webhooks").json()
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
    assert "secret" not in app_client.get(f"/v1/webhooks/{hook['id']}").json()
    assert app_client.delete(f"/v1/webhooks/{hook['id']}").status_code == 204
    assert app_client.get(f"/v1/webhooks/{hook['id']}").status_code == 404


def test_managing_webhooks_needs_the_admin_scope(app_client):
    with app_client.app.state.write_sessionmaker.begin() as s:
        reader = auth_service.create(s, "reader", ["read", "ingest"])[1]
        admin = auth_service.create(s, "admin", ["admin"])[1]
    app_client.app.state.keyring.load()  # as the background refresh would within key_refresh_seconds
    body = {"url": "http://127.0.0.1:9/hook"}
    assert app_client.post("/v1/webhooks", json=body).status_code == 401
    r = app_client.post("/v1/webhooks", json=body, headers={"X-API-Key": reader})
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert app_client.post("/v1/webhooks", json=body, headers={"X-API-Key": admin}).status_code == 201


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/", "http://localhost/", "http://169.254.169.254/latest",
                                 "http://10.0.0.7/", "http://192.168.1.1/", "http://[::1]/", "http://[fe80::1]/",
                                 "http://[::ffff:127.0.0.1]/", "http://[::ffff:0:7f00:1]/", "http://[fec0::1]/",
                                 "http://224.0.0.1/", "http://0.0.0.0/",
                                 "ftp://example.org/", "http://user:pw@example.org/", "not a url",
                                 "http://exa\u0000mple.org/", "http://a..b/", "http://é.example/"])
def test_urls_to_private_or_odd_targets_are_refused(client, url):
    r = client.post("/v1/webhooks", json={"url": url})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "url"
    assert client.get("/v1/webhooks").json() == []


def test_bad_filters_are_a_422(app_client):
    for filters, field in [({"countries": ["XXX"]}, "filters.countries"), ({"dyads": ["IRN"]}, "filters.dyads"),
                           ({"min_level": "severe"}, "filters.min_level"), ({"colour": 1}, "filters.colour"),
                           ({"level_changes_only": "yes"}, "filters.level_changes_only")]:
        r = app_client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/", "filters": filters})
        assert r.status_code == 422 and r.json()["field"] == field, r.text


def test_deliveries_are_written_with_the_assessments_that_cause_them(app_client):
    hook = _subscribe(app_client, "http://127.0.0.1:9/hook")
    app_client.post("/v1/events", json=IRAN_STRIKE)
    bad = app_client.post("/v1/events/batch", json={"items": [PAKISTAN_RETALIATION, event(fatalities=-1)]})
    assert bad.status_code == 422
    with app_client.app.state.sessionmaker() as s:
        assessed = set(s.scalars(select(Assessment.id)))
        outbox = list(s.execute(select(WebhookDelivery.assessment_id, WebhookDelivery.status)))
    assert {a for a, _ in outbox} == assessed and len(outbox) == len(assessed) == 2
    assert {status for _, status in outbox} == {"pending"}
    assert {d["event_type"] for d in _deliveries(app_client, hook["id"])} == {"risk.level_changed"}


def test_filters_choose_what_each_subscriber_is_told(app_client):
    hooks = {
        "all": _subscribe(app_client, "http://127.0.0.1:9/a"),
        "dyad": _subscribe(app_client, "http://127.0.0.1:9/b", dyads=["pak--irn"]),
        "country": _subscribe(app_client, "http://127.0.0.1:9/c", countries=["irn"]),
        "critical": _subscribe(app_client, "http://127.0.0.1:9/d", min_level="critical"),
        "changes": _subscribe(app_client, "http://127.0.0.1:9/e", level_changes_only=True),
    }
    app_client.post("/v1/events", json=IRAN_STRIKE)
    app_client.post("/v1/events", json=PAKISTAN_RETALIATION)
    app_client.post("/v1/events", json=event(PAKISTAN_RETALIATION, source_event_id="again", occurred_on="2024-01-19"))
    # a corrected note re-assesses the same dyads to the same levels: no level change
    app_client.post("/v1/events", json=event(PAKISTAN_RETALIATION, source_event_id="again", occurred_on="2024-01-19",
                                             notes="corrected"))
    feed = app_client.get("/v1/assessments").json()["items"]
    told = {name: sorted(d["assessment_id"] for d in _deliveries(app_client, h["id"])) for name, h in hooks.items()}
    assert told["all"] == [a["id"] for a in feed]
    assert told["dyad"] == [a["id"] for a in feed if a["dyad_id"] == "IRN--PAK"]
    assert told["country"] == [a["id"] for a in feed if "IRN" in a["dyad_id"].split("--")]
    assert told["critical"] == [a["id"] for a in feed if a["level"] == "critical"]
    changed, last = [], {}
    for a in feed:
        if last.get(a["dyad_id"]) != a["level"]:
            changed.append(a["id"])
        last[a["dyad_id"]] = a["level"]
    assert told["changes"] == changed and len(changed) < len(feed)


def test_a_delivery_is_signed_the_way_the_spec_says(app_client):
    with Receiver() as receiver:
        hook = _subscribe(app_client, receiver.url)
        app_client.post("/v1/events", json=IRAN_STRIKE)
        assert _round(app_client) == 2
        got = receiver.wait_for(2)
    feed = {a["id"]: a for a in app_client.get("/v1/assessments").json()["items"]}
    for r in got:
        payload = Webhook(hook["secret"]).verify(r.body, r.headers)  # raises on a bad signature or stale timestamp
        assert payload["type"] == "risk.level_changed" and r.headers["webhook-id"].startswith("msg_")
        assert abs(int(r.headers["webhook-timestamp"]) - datetime.now(timezone.utc).timestamp()) < 60
        data = payload["data"]
        assert data.pop("previous_level") is None and data == feed[data["id"]]
        with pytest.raises(Exception):
            Webhook(hook["secret"]).verify(r.body + b" ", r.headers)
    assert {d["status"] for d in _deliveries(app_client, hook["id"])} == {"delivered"}


def test_a_failed_attempt_is_retried_with_the_same_webhook_id(app_client):
    with Receiver(replies=[(500, {}), (503, {"Retry-After": "3"})]) as receiver:
        hook = _subscribe(app_client, receiver.url, dyads=["IRN--PAK"])
        app_client.post("/v1/events", json=IRAN_STRIKE)
        assert _round(app_client) == 1
        first = _deliveries(app_client, hook["id"])[0]
        assert first["status"] == "pending" and first["last_status_code"] == 500
        assert first["history"][0]["status_code"] == 500
        asyncio.run(asyncio.sleep(0.3))
        assert _round(app_client) == 1  # the backoff (base 0.05 s, jittered) has passed
        second = _deliveries(app_client, hook["id"])[0]
        # Retry-After: 3 is honoured: the next attempt is 3 s away, not the backoff's fraction (3 s, not 1: a loaded
        # machine's next round must still come before it is due).
        due = datetime.fromisoformat(second["next_attempt_at"]) - datetime.fromisoformat(
            second["history"][1]["finished_at"])
        assert timedelta(seconds=2.9) < due < timedelta(seconds=3.5)
        assert _round(app_client) == 0
        asyncio.run(asyncio.sleep(3.1))
        assert _round(app_client) == 1
        got = receiver.wait_for(3)
    assert len({r.headers["webhook-id"] for r in got}) == 1 and got[0].body == got[2].body
    final = _deliveries(app_client, hook["id"])[0]
    assert final["status"] == "delivered" and final["attempts"] == 3
    assert [a["status_code"] for a in final["history"]] == [500, 503, 200]


def test_a_timeout_is_a_failed_attempt(app_client):
    with Receiver(delay=1.5) as receiver:
        hook = _subscribe(app_client, receiver.url, dyads=["IRN--PAK"])
        app_client.post("/v1/events", json=IRAN_STRIKE)
        _round(app_client, webhooks_timeout_seconds=0.3)
        d = _deliveries(app_client, hook["id"])[0]
    assert d["status"] == "pending" and d["last_status_code"] is None and d["last_error"].startswith("timeout")


def test_a_410_disables_the_endpoint_and_its_deliveries_say_so(app_client):
    with Receiver(replies=[(410, {})]) as receiver:
        hook = _subscribe(app_client, receiver.url)
        app_client.post("/v1/events", json=IRAN_STRIKE)
        with app_client.app.state.write_sessionmaker.begin() as s:  # one at a time: the second stays pending
            s.execute(update(WebhookDelivery).where(WebhookDelivery.id > s.scalar(select(func.min(WebhookDelivery.id))))
                      .values(next_attempt_at=datetime.now(timezone.utc) + timedelta(hours=1)))
        assert _round(app_client) == 1
        app_client.post("/v1/events", json=PAKISTAN_RETALIATION)
        assert _round(app_client) == 0
        assert len(receiver.received) == 1
    endpoint = app_client.get(f"/v1/webhooks/{hook['id']}").json()
    assert endpoint["disabled_at"] and "410" in endpoint["disabled_reason"]
    deliveries = _deliveries(app_client, hook["id"])
    assert len(deliveries) == 2  # nothing new is queued for a disabled endpoint
    assert {d["status"] for d in deliveries} == {"failed"}
    assert all(d["last_error"].startswith("endpoint disabled: the receiver answered 410") for d in deliveries)


def test_an_endpoint_failing_for_the_whole_window_is_disabled(app_client):
    with Receiver(replies=[(500, {})] * 5) as receiver:
        hook = _subscribe(app_client, receiver.url, dyads=["IRN--PAK"])
        app_client.post("/v1/events", json=IRAN_STRIKE)
        _round(app_client)
        with app_client.app.state.write_sessionmaker.begin() as s:  # a day goes by, failing
            s.execute(update(WebhookDelivery).values(next_attempt_at=datetime.now(timezone.utc)))
            s.execute(update(WebhookEndpoint).values(failing_since=datetime.now(timezone.utc) - timedelta(days=1)))
        _round(app_client)
        assert len(receiver.received) == 2
    endpoint = app_client.get(f"/v1/webhooks/{hook['id']}").json()
    assert endpoint["disabled_at"] and endpoint["disabled_reason"].startswith("failing since")
    d = _deliveries(app_client, hook["id"])[0]
    assert d["status"] == "failed" and d["last_error"].startswith("endpoint disabled: failing since")


def test_a_delivery_refused_for_the_whole_window_fails_while_the_endpoint_stays(app_client):
    with Receiver(replies=[(400, {})]) as receiver:
        hook = _subscribe(app_client, receiver.url, dyads=["IRN--PAK"])
        app_client.post("/v1/events", json=IRAN_STRIKE)
        with app_client.app.state.write_sessionmaker.begin() as s:  # a day of refusals, other deliveries succeeding
            s.execute(update(WebhookDelivery).values(created_at=datetime.now(timezone.utc) - timedelta(days=1)))
        assert _round(app_client) == 1
        assert _round(app_client) == 0
        assert len(receiver.received) == 1
    assert app_client.get(f"/v1/webhooks/{hook['id']}").json()["disabled_at"] is None
    d = _deliveries(app_client, hook["id"])[0]
    assert d["status"] == "failed" and d["next_attempt_at"] is None
    assert d["last_error"].startswith("gave up after 1 attempts") and d["last_error"].endswith("HTTP 400")


def test_the_address_is_checked_again_at_delivery(app_client, monkeypatch):
    """DNS rebinding: a host that resolved to a public address at subscription resolves to loopback later."""
    real = socket.getaddrinfo
    public = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80))]
    with Receiver() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        strict = app_client.app.state.settings.model_copy(update={"webhooks_allow_private": False})
        app_client.app.dependency_overrides[get_settings] = lambda: strict
        monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: public)
        hook = _subscribe(app_client, f"http://rebinding.example:{port}/hook")
        monkeypatch.setattr(socket, "getaddrinfo",
                            lambda host, *a, **k: real("127.0.0.1" if host == "rebinding.example" else host, *a, **k))
        app_client.post("/v1/events", json=IRAN_STRIKE)
        _round(app_client, webhooks_allow_private=False)
        assert receiver.received == []
    d = _deliveries(app_client, hook["id"])[0]
    assert d["status"] == "pending" and "non-public address (127.0.0.1)" in d["last_error"]


def test_deleting_a_subscription_drops_its_pending_deliveries(app_client):
    hook = _subscribe(app_client, "http://127.0.0.1:9/hook")
    app_client.post("/v1/events", json=IRAN_STRIKE)
    app_client.delete(f"/v1/webhooks/{hook['id']}")
    with app_client.app.state.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
    assert app_client.get("/v1/webhooks").json() == []


def test_the_outbox_commits_or_rolls_back_with_the_assessments(app_client):
    _subscribe(app_client, "http://127.0.0.1:9/hook")
    state = app_client.app.state
    with state.write_sessionmaker() as s:
        flow.ingest(s, state.scorer, [EventCreate.model_validate(IRAN_STRIKE)])
        assert s.scalar(select(func.count()).select_from(WebhookDelivery)) == 2  # written in the transaction
        s.rollback()  # e.g. the commit fails
    with state.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(Assessment)) == 0
        assert s.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def _trickler(seconds: float) -> str:
    """A receiver that answers one header byte every 0.2 s for `seconds`: each read is quick, the answer is not."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        end = time.monotonic() + seconds
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Pad: ")
        try:
            while time.monotonic() < end:
                conn.sendall(b"a")
                time.sleep(0.2)
            conn.sendall(b"\r\ncontent-length: 0\r\n\r\n")
        except OSError:  # the worker gave up and closed
            pass
        conn.close()
        server.close()

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{server.getsockname()[1]}/hook"


def test_an_unreadable_retry_after_spoils_no_other_delivery(app_client):
    bad = "Thu, 01 Jan 1970 00:00:00 +99999999999999999999"  # parsedate_to_datetime raises OverflowError
    assert retry.after_header(bad) is None
    with Receiver() as good, Receiver(replies=[(503, {"Retry-After": bad})]) as odd:
        ok, other = (_subscribe(app_client, url, dyads=["IRN--PAK"]) for url in (good.url, odd.url))
        app_client.post("/v1/events", json=IRAN_STRIKE)
        assert _round(app_client) == 2
        assert [d["status"] for d in _deliveries(app_client, ok["id"])] == ["delivered"]
        refused = _deliveries(app_client, other["id"])[0]
        assert refused["status"] == "pending" and refused["last_status_code"] == 503  # recorded: backoff follows
    assert len(good.received) == 1


def test_a_receiver_trickling_its_answer_times_out_as_a_whole_and_holds_back_no_other(app_client):
    """The timeout bounds the whole attempt, not each read: else a trickle outlasts the claim, and the round's
    other deliveries, not yet recorded, are claimed and sent again by another worker."""
    with Receiver() as good:
        ok, slow = (_subscribe(app_client, url, dyads=["IRN--PAK"]) for url in (good.url, _trickler(8)))
        app_client.post("/v1/events", json=IRAN_STRIKE)
        started = time.monotonic()
        assert _round(app_client, webhooks_timeout_seconds=1) == 2
        took = time.monotonic() - started
    assert took < 5, took  # the trickle goes on for 8 s
    assert [d["status"] for d in _deliveries(app_client, ok["id"])] == ["delivered"]
    trickled = _deliveries(app_client, slow["id"])[0]
    assert trickled["status"] == "pending" and trickled["last_error"] == "timeout after 1 s"


def test_a_receiver_not_reached_at_its_first_address_is_tried_at_the_next(app_client, monkeypatch):
    """A dual-stack name whose first address does not answer from here (e.g. IPv6 from an IPv4-only host)."""
    with Receiver() as receiver:
        port = int(receiver.url.split(":")[2].split("/")[0])
        answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                   for address in ("127.0.0.0", "127.0.0.1")]
        monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: answers)

        async def resolve(self, *a, **k):
            return answers

        monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", resolve)
        hook = _subscribe(app_client, f"http://dual.example:{port}/hook", dyads=["IRN--PAK"])
        app_client.post("/v1/events", json=IRAN_STRIKE)
        _round(app_client)
        assert len(receiver.received) == 1 and receiver.received[0].headers["host"] == f"dual.example:{port}"
    assert _deliveries(app_client, hook["id"])[0]["status"] == "delivered"


def test_a_late_answer_to_a_lapsed_claim_changes_nothing(app_client, monkeypatch):
    """Worker A's claim lapses mid-send; worker B delivers; A's failure arriving after must not undo that."""
    hook = _subscribe(app_client, "http://127.0.0.1:9/hook")
    app_client.post("/v1/events", json=IRAN_STRIKE)
    state = app_client.app.state
    a, b = Worker(state.engine, state.settings), Worker(state.engine, state.settings)
    late, real = a.claim(), delivery._now
    lapsed = timedelta(seconds=state.settings.webhooks_timeout_seconds + 31)
    monkeypatch.setattr(delivery, "_now", lambda: real() + lapsed)
    again = b.claim()  # the lease has lapsed
    assert [c.number for c in late] == [1, 1] and [c.number for c in again] == [2, 2]
    b.record([delivery.Outcome(c, 200, None) for c in again])
    a.record([delivery.Outcome(c, 500, "HTTP 500") for c in late])
    assert {d["status"] for d in _deliveries(app_client, hook["id"])} == {"delivered"}
    assert {d["last_status_code"] for d in _deliveries(app_client, hook["id"])} == {200}
    assert app_client.get(f"/v1/webhooks/{hook['id']}").json()["failing_since"] is None


def _metric(client, name: str, labels: str = "") -> float:
    """A sample's value on /metrics (0 when absent): counters are the process's, so tests read differences."""
    import re

    found = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", client.get("/metrics").text, re.M)
    return float(found.group(1)) if found else 0.0


def test_deliveries_are_counted_by_outcome_with_their_lag(app_client):
    delivered = lambda: _metric(app_client, "escalation_webhook_attempts_total", '{outcome="delivered"}')  # noqa: E731
    failed = lambda: _metric(app_client, "escalation_webhook_attempts_total", '{outcome="http_error"}')  # noqa: E731
    lag = lambda: _metric(app_client, "escalation_webhook_delivery_lag_seconds_count")  # noqa: E731
    before = delivered(), failed(), lag()
    with Receiver(replies=[(500, {})]) as receiver:
        _subscribe(app_client, receiver.url, dyads=["IRN--PAK"])
        app_client.post("/v1/events", json=IRAN_STRIKE)
        assert _round(app_client) == 1
        asyncio.run(asyncio.sleep(0.3))
        assert _round(app_client) == 1
        receiver.wait_for(2)
    assert (delivered() - before[0], failed() - before[1], lag() - before[2]) == (1, 1, 1)
    assert _metric(app_client, "escalation_webhook_delivery_lag_seconds_sum") > 0


def test_the_queue_depth_and_the_feed_head_are_gauges(app_client):
    with Receiver() as receiver:
        _subscribe(app_client, receiver.url)
        app_client.post("/v1/events/batch", json=[IRAN_STRIKE, PAKISTAN_RETALIATION])
        pending = len(app_client.app.state.sessionmaker()
                      .scalars(select(WebhookDelivery.id).where(WebhookDelivery.status == "pending")).all())
        assert pending == 3 and _round(app_client) == 3  # one a dyad; the round counts the queue before it claims
        assert _metric(app_client, "escalation_webhook_deliveries_pending") == 3
        receiver.wait_for(3)
        assert _round(app_client) == 0  # a new worker each round here: each counts (a running one every 5 s)
        assert _metric(app_client, "escalation_webhook_deliveries_pending") == 0
    newest = app_client.get("/v1/assessments").json()["items"][-1]["id"]
    app_client.get("/v1/assessments", params={"after": "0"})  # a poll reads the head
    assert _metric(app_client, "escalation_feed_head") == newest
