"""Races between writers that only PostgreSQL lets happen (SQLite has one writer at a time): each is forced at the
moment it can bite, and the writes must still all land, with nothing dangling."""

import logging
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from app.database import make_engine, make_sessionmaker
from app.events import service as event_service
from app.events.models import Event
from app.events.schemas import EventCreate
from app.risk import flow, outbox
from app.risk.models import DyadRisk
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.conftest import PG_URL
from tests.factories import event

pytestmark = pytest.mark.skipif(not PG_URL, reason="PostgreSQL's row locks; SQLite has one writer at a time")


def _item(key: str, **changes) -> dict:
    return event(source="race", source_event_id=key, **changes)


def test_batches_whose_runs_take_keys_in_opposite_orders_both_land(database_url, scorer, monkeypatch, caplog):
    """[X, R1 answering X, Y] and [Y, R2 answering Y, X] are each written in two runs (R answers an event of the
    same batch). With both first runs written, each second run waits for the key the other holds: PostgreSQL
    fails one to break the deadlock, and that one must run again instead of failing its request."""
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine, writer=True)
    with factory.begin() as session:  # the dyad exists: new, its row would make the second writer wait at once
        flow.ingest(session, scorer, [EventCreate.model_validate(_item("earlier", occurred_on="2024-01-02"))])
    barrier = threading.Barrier(2, timeout=30)
    ran = threading.local()
    real = event_service._ingest_run

    def run_then_meet(session, run, links, now):
        out = real(session, run, links, now)
        if not getattr(ran, "first", False):
            ran.first = True
            barrier.wait()  # both writers hold their first run's key before either writes its second run
        return out

    monkeypatch.setattr(event_service, "_ingest_run", run_then_meet)
    statuses: dict[str, list[str]] = {}
    failures: list[BaseException] = []

    def writer(name: str, first: str, second: str) -> None:
        items = [_item(first), _item(f"answer-{name}", responds_to=first, retaliation=True), _item(second)]
        try:
            with factory.begin() as session:
                written = flow.ingest(session, scorer, [EventCreate.model_validate(i) for i in items])
            statuses[name] = [r.status for r in written.results]
        except BaseException as exc:  # reported by the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(name, first, second))
               for name, first, second in (("1", "x", "y"), ("2", "y", "x"))]
    with caplog.at_level(logging.WARNING, logger="app.risk.flow"):
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert not failures, failures[0]
    assert sorted(statuses["1"] + statuses["2"]) == ["created"] * 4 + ["unchanged"] * 2  # x and y once each
    assert sum("running it again" in r.getMessage() for r in caplog.records) == 1  # the deadlock happened, once

    with Session(engine) as s:
        ids = dict(s.execute(select(Event.source_event_id, Event.id).where(Event.source == "race")).all())
        answers = dict(s.execute(select(Event.source_event_id, Event.responds_to_id)
                                 .where(Event.source == "race")).all())
        assert sorted(ids) == ["answer-1", "answer-2", "earlier", "x", "y"]
        assert answers["answer-1"] == ids["x"] and answers["answer-2"] == ids["y"]
        assert s.scalar(select(func.count()).select_from(DyadRisk)) >= 1  # assessed, in the same transactions
    engine.dispose()


def test_an_endpoint_deleted_while_a_write_queues_its_deliveries_neither_fails_it_nor_dangles(
        client, database_url, monkeypatch):
    """Another request deletes a webhook endpoint between the write's read of the active endpoints and its
    insert of their deliveries: the write lands, and the delete (waiting for it) takes the deliveries along."""
    engine = make_engine(database_url)
    with Session(engine) as s:
        s.execute(insert(WebhookEndpoint).values(id=1, url="https://hooks.example.org/in", secret="s" * 32,
                                                 filters={}, created_at=datetime.now(timezone.utc)))
        s.commit()
    deleted = threading.Event()
    deleters: list[threading.Thread] = []
    real_build = outbox.build

    def delete_endpoint() -> None:
        with Session(engine) as other:  # as DELETE /v1/webhooks/1 would, from another request
            other.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == 1))
            other.commit()
        deleted.set()

    def build_while_deleting(session, rows):
        deleters.append(threading.Thread(target=delete_endpoint))
        deleters[0].start()
        deleted.wait(1.0)  # an unlocked endpoint is gone by now, and the deliveries' insert would fail
        return real_build(session, rows)

    monkeypatch.setattr(outbox, "build", build_while_deleting)
    r = client.post("/v1/events/batch", json={"items": [_item("a"), _item("b", occurred_on="2024-01-17")]})
    deleters[0].join(30)
    assert r.status_code == 200, r.text
    assert deleted.is_set()  # after the write committed
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Event).where(Event.source == "race")) == 2
        assert s.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0
        assert s.scalar(select(func.count()).select_from(WebhookDelivery)) == 0  # cascaded with the endpoint
    engine.dispose()
