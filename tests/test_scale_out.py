"""`escalation serve --workers 2` on one database: concurrent writers and a poller lose nothing, see nothing
twice, skip nothing; a 304 is never stale after another worker's commit; metrics are summed over workers."""

import re
import threading
import time

import httpx
import pytest
from sqlalchemy import select

from app.database import make_engine, make_sessionmaker
from app.risk.models import Assessment
from tests.factories import IRAN_STRIKE, event, many
from tests.servers import Server
from tests.test_reliability import _assert_every_event_assessed

pytestmark = pytest.mark.slow


def _stored_ids(database_url: str) -> list[int]:
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as s:
        ids = list(s.scalars(select(Assessment.id).order_by(Assessment.id)))
    engine.dispose()
    return ids


def test_two_workers_four_writers_and_a_poller(database_url):
    server = Server(database_url, workers=2)
    # overlapping keys (every writer sends keys 0..399) and revisions (writers 2 and 3 change fatalities)
    base = many(400, source="scale")
    payloads = [base, list(reversed(base)),
                [event(e, fatalities=e["fatalities"] + 1) for e in base[::2]],
                [event(e, fatalities=e["fatalities"] + 2) for e in base[1::2]]]
    ids: dict[str, set[int]] = {}
    lock, done, feed, failures = threading.Lock(), threading.Event(), [], []

    def writer(items: list[dict]) -> None:
        try:
            with httpx.Client(base_url=server.base, timeout=120) as client:
                for start in range(0, len(items), 40):
                    batch = items[start:start + 40]
                    r = client.post("/v1/events/batch", json={"items": batch})
                    assert r.status_code == 200, r.text[:300]
                    with lock:
                        for item, result in zip(batch, r.json()["items"]):
                            ids.setdefault(item["source_event_id"], set()).add(result["id"])
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    def poller() -> None:
        cursor = "0"
        with httpx.Client(base_url=server.base, timeout=60) as client:
            while True:
                finished = done.is_set()
                page = client.get("/v1/assessments", params={"after": cursor, "limit": 100}).json()
                feed.extend(a["id"] for a in page["items"])
                cursor = page["next_cursor"]
                if finished and not page["items"]:
                    return
                time.sleep(0.005)

    try:
        threads = [threading.Thread(target=writer, args=(p,)) for p in payloads]
        watcher = threading.Thread(target=poller)
        for t in [*threads, watcher]:
            t.start()
        for t in threads:
            t.join()
        done.set()
        watcher.join()
    finally:
        server.stop()
    assert not failures, failures[0]
    assert len(ids) == 400 and all(len(v) == 1 for v in ids.values())  # one event per key, whoever won
    assert _assert_every_event_assessed(database_url) == 400
    assert feed == _stored_ids(database_url)  # each assessment once, no gap, in the order ids were taken


def test_a_304_is_never_stale_after_another_workers_commit(database_url):
    server = Server(database_url, workers=2)
    try:
        with httpx.Client(base_url=server.base, timeout=60) as client:
            assert client.post("/v1/events", json=IRAN_STRIKE).status_code == 201
            for n in range(20):
                etag = client.get("/v1/risk", params={"a": "IRN", "b": "PAK"}).headers["etag"]
                # fresh connections land on either worker; every one must see the write just acknowledged
                with httpx.Client(base_url=server.base, timeout=60) as writer:
                    day = f"2024-02-{n + 1:02d}"
                    assert writer.post("/v1/events", json=event(IRAN_STRIKE, source_event_id=f"w{n}",
                                                                 occurred_on=day)).status_code == 201
                for _ in range(3):
                    with httpx.Client(base_url=server.base, timeout=60) as reader:
                        r = reader.get("/v1/risk", params={"a": "IRN", "b": "PAK"}, headers={"If-None-Match": etag})
                        assert r.status_code == 200 and r.json()["last_event_on"] == day
            for _ in range(30):
                client.get("/health/live")
            metrics = client.get("/metrics").text
    finally:
        server.stop()
    served = re.search(r'escalation_http_requests_total\{method="GET",route="/health/live",status="200"\} (\S+)',
                       metrics)
    assert served and float(served.group(1)) == 30  # the sum over both workers' samples
    created = re.search(r'escalation_events_ingested_total\{status="created"\} (\S+)', metrics)
    assert created and float(created.group(1)) == 21
