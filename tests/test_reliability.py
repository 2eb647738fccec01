"""Real server processes: concurrent writers on one database, and a SIGKILL in the middle of batch ingest."""

import threading
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from app.database import make_engine, make_sessionmaker
from app.events.models import Event, EventDyad
from app.ml.features import LOOKBACK_DAYS
from app.risk.models import Assessment
from tests.factories import many
from tests.servers import Server

pytestmark = pytest.mark.slow


def _assert_every_event_assessed(database_url: str) -> int:
    """Each dyad's newest assessment of its last event date counts every live event in its look-back window."""
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as s:
        live = (select(EventDyad.dyad_id, Event.occurred_on).join(Event, Event.id == EventDyad.event_id)
                .where(Event.retracted_at.is_(None)))
        days: dict[str, list] = {}
        for dyad_id, day in s.execute(live):
            days.setdefault(dyad_id, []).append(day)
        for dyad_id, dates in days.items():
            last = max(dates)
            newest = s.scalars(select(Assessment).where(Assessment.dyad_id == dyad_id, Assessment.as_of == last)
                               .order_by(Assessment.id.desc()).limit(1)).one()
            assert newest.event_count == sum(d >= last - timedelta(days=LOOKBACK_DAYS) for d in dates), dyad_id
        total = s.scalar(select(func.count()).select_from(Event))
    engine.dispose()
    return total


def test_two_servers_writing_the_same_dyads_lose_and_duplicate_nothing(database_url):
    servers = [Server(database_url), Server(database_url)]
    events = many(600, source="concurrent")
    batches = [events[i:i + 50] for i in range(0, len(events), 50)]
    acknowledged: dict[str, int] = {}
    lock = threading.Lock()
    feed: list[int] = []
    done = threading.Event()

    def writer(server: Server, mine: list[list[dict]]) -> None:
        with httpx.Client(base_url=server.base, timeout=120) as client:
            for batch in mine:
                r = client.post("/v1/events/batch", json={"items": batch})
                assert r.status_code == 200, r.text[:300]
                with lock:
                    for item, result in zip(batch, r.json()["items"]):
                        # both servers receive every batch: the same key must map to the same event
                        assert acknowledged.setdefault(item["source_event_id"], result["id"]) == result["id"]

    def poller() -> None:
        cursor = "0"
        with httpx.Client(base_url=servers[0].base, timeout=60) as client:
            while True:
                finished = done.is_set()
                page = client.get("/v1/assessments", params={"after": cursor, "limit": 200}).json()
                feed.extend(a["id"] for a in page["items"])
                cursor = page["next_cursor"]
                if finished and not page["items"]:
                    return
                time.sleep(0.01)

    try:
        threads = [threading.Thread(target=writer, args=(servers[0], batches)),
                   threading.Thread(target=writer, args=(servers[1], list(reversed(batches)))),
                   threading.Thread(target=poller)]
        for t in threads:
            t.start()
        for t in threads[:2]:
            t.join()
        done.set()
        threads[2].join()
    finally:
        for s in servers:
            s.stop()
    assert len(acknowledged) == 600
    assert _assert_every_event_assessed(database_url) == 600
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as s:
        stored = list(s.scalars(select(Assessment.id).order_by(Assessment.id)))
    engine.dispose()
    assert feed == stored  # the poller saw every assessment exactly once, in order


def test_sigkill_during_batch_ingest_loses_no_acknowledged_event(database_url):
    server = Server(database_url)
    events = many(6000, source="killed")
    batches = [events[i:i + 100] for i in range(0, len(events), 100)]
    acknowledged: list[str] = []

    def writer() -> None:
        with httpx.Client(base_url=server.base, timeout=60) as client:
            for batch in batches:
                try:
                    r = client.post("/v1/events/batch", json={"items": batch})
                except httpx.TransportError:
                    return  # the server died mid-request: this batch was never acknowledged
                assert r.status_code == 200
                acknowledged.extend(item["source_event_id"] for item in batch)

    thread = threading.Thread(target=writer)
    thread.start()
    while len(acknowledged) < 500 and thread.is_alive():
        time.sleep(0.01)
    server.kill()
    thread.join()
    assert 500 <= len(acknowledged) < 6000

    restarted = Server(database_url)
    try:
        with httpx.Client(base_url=restarted.base, timeout=60) as client:
            stored, cursor = set(), None
            while True:
                page = client.get("/v1/events", params={"limit": 1000, **({"cursor": cursor} if cursor else {})}).json()
                stored |= {e["source_event_id"] for e in page["items"]}
                if not (cursor := page["next_cursor"]):
                    break
    finally:
        restarted.stop()
    assert set(acknowledged) <= stored
    assert len(stored) % 100 == 0  # whole batches or nothing: the killed one is absent or complete
    assert _assert_every_event_assessed(database_url) == len(stored)
