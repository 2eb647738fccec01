"""Webhook delivery inside real `escalation serve` processes: a restart between attempts, two servers at once."""

import time

import httpx
import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook

from app.database import make_engine, make_sessionmaker
from app.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION, many
from tests.receiver import Receiver
from tests.servers import Server, server

pytestmark = pytest.mark.slow

ENV = {"ESCALATION_WEBHOOKS_ALLOW_PRIVATE": "true", "ESCALATION_WEBHOOKS_POLL_SECONDS": "0.2"}


def _wait(predicate, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := predicate()):
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_a_delivery_survives_a_restart_between_attempts(database_url):
    # Retry-After, not the jittered backoff (anywhere from 0 s): the retry is due after the first process is gone
    with Receiver(replies=[(503, {"Retry-After": "10"})]) as receiver:
        first = Server(database_url, env=ENV)
        try:
            hook = httpx.post(f"{first.base}/v1/webhooks", json={"url": receiver.url, "filters": {
                "dyads": ["IRN--PAK"]}}).json()
            assert httpx.post(f"{first.base}/v1/events", json=IRAN_STRIKE).status_code == 201
            deliveries = f"{first.base}/v1/webhooks/{hook['id']}/deliveries"
            _wait(lambda: httpx.get(deliveries).json()["items"][0]["history"])  # the 503 is recorded, not in flight
        finally:
            first.stop()  # the retry is due 10 s later: this process will not make it
        with server(database_url, env=ENV) as second_base:
            got = receiver.wait_for(2, timeout=60)
            delivery = httpx.get(f"{second_base}/v1/webhooks/{hook['id']}/deliveries").json()["items"][0]
    assert got[0].headers["webhook-id"] == got[1].headers["webhook-id"] == delivery["message_id"]
    for r in got:
        Webhook(hook["secret"]).verify(r.body, r.headers)
    assert delivery["status"] == "delivered" and [a["status_code"] for a in delivery["history"]] == [503, 200]
    assert delivery["history"][0]["worker"] != delivery["history"][1]["worker"]


def test_two_servers_deliver_each_attempt_once(database_url):
    # A slow receiver keeps a worker busy with its claimed batch, so the other process must claim the rest.
    with Receiver(delay=0.5) as receiver:
        servers = [Server(database_url, env=ENV), Server(database_url, env=ENV)]
        try:
            httpx.post(f"{servers[0].base}/v1/webhooks", json={"url": receiver.url})
            httpx.post(f"{servers[1].base}/v1/webhooks", json={"url": receiver.url})
            events = many(60, source="two-servers") + [IRAN_STRIKE, PAKISTAN_RETALIATION]
            for i in range(0, len(events), 10):
                r = httpx.post(f"{servers[i // 10 % 2].base}/v1/events/batch", json={"items": events[i:i + 10]},
                               timeout=60)
                assert r.status_code == 200, r.text[:300]
            engine = make_engine(database_url)
            with make_sessionmaker(engine)() as s:
                expected = s.scalar(select(func.count()).select_from(WebhookDelivery))
            receiver.wait_for(expected, timeout=120)
            undelivered = select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status != "delivered")

            def all_recorded() -> bool:  # a slow machine records outcomes after the receiver has the request
                with make_sessionmaker(engine)() as s:
                    return s.scalar(undelivered) == 0

            _wait(all_recorded)
            time.sleep(1)  # anything sent twice would arrive now
            with make_sessionmaker(engine)() as s:
                workers = set(s.scalars(select(WebhookAttempt.worker)))
                # an attempt that failed on the network is retried; a successful one is never repeated
                answered = s.scalar(select(func.count()).select_from(WebhookAttempt)
                                    .where(WebhookAttempt.status_code.is_not(None)))
                delivered = s.scalar(select(func.count()).select_from(WebhookDelivery)
                                     .where(WebhookDelivery.status == "delivered"))
            engine.dispose()
        finally:
            for server in servers:
                server.stop()
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert expected > 50 and len(ids) == len(set(ids)) == expected == answered == delivered
    assert len(workers) == 2  # both processes took part
