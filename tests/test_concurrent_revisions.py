"""`serve --workers 2`, four writers whose batches mix new, unchanged and revised items of the same keys (some
repeated within a batch): every acknowledgement is kept exactly once in the revision history, each event's
row, links and latest revision agree, and the feed has no gap and no repeat."""

import random
import threading
from collections import Counter

import httpx
import pytest
from sqlalchemy import select

from app.database import make_engine, make_sessionmaker
from app.events.models import Event, EventDyad, EventRevision
from app.risk.models import Assessment
from tests.factories import event, many
from tests.servers import Server
from tests.test_reliability import _assert_every_event_assessed

pytestmark = pytest.mark.slow


def _streams(base: list[dict], writers: int) -> list[list[dict]]:
    rng = random.Random(11)
    streams = []
    for w in range(writers):
        items = []
        for n, item in enumerate(base):
            if n % 3 == w % 3:
                items.append(event(item, fatalities=item["fatalities"] + 1 + w, notes=f"writer {w}\tsays \"{n}\""))
            else:
                items.append(item)
            if n % 7 == w:  # the same key twice in one stream: sent, then corrected
                items.append(event(item, injured=w + 1))
        rng.shuffle(items)
        streams.append(items)
    return streams


def test_four_writers_mixing_new_unchanged_and_revised_items(database_url):
    base = many(240, source="mixed")
    server = Server(database_url, workers=2)
    acks: list[tuple[str, int, str]] = []
    lock, failures = threading.Lock(), []

    def post(client: httpx.Client, batch: list[dict]) -> None:
        r = client.post("/v1/events/batch", json={"items": batch})
        assert r.status_code == 200, r.text[:300]
        with lock:
            acks.extend((item["source_event_id"], res["id"], res["status"])
                        for item, res in zip(batch, r.json()["items"]))

    def writer(items: list[dict]) -> None:
        try:
            with httpx.Client(base_url=server.base, timeout=120) as client:
                for start in range(0, len(items), 30):
                    post(client, items[start:start + 30])
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    try:
        with httpx.Client(base_url=server.base, timeout=120) as client:
            post(client, base[::2])  # half the keys are stored before the writers start
        threads = [threading.Thread(target=writer, args=(s,)) for s in _streams(base, 4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.stop()
    assert not failures, failures[0]

    ids: dict[str, set[int]] = {}
    for key, event_id, _ in acks:
        ids.setdefault(key, set()).add(event_id)
    assert len(ids) == 240 and all(len(v) == 1 for v in ids.values())  # one event per key
    statuses = Counter(status for _, _, status in acks)
    assert statuses["created"] == 240  # each key created once, by whichever writer came first

    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as s:
        events = {e.id: e for e in s.scalars(select(Event))}
        revisions: dict[int, list[EventRevision]] = {}
        for r in s.scalars(select(EventRevision).order_by(EventRevision.event_id, EventRevision.revision)):
            revisions.setdefault(r.event_id, []).append(r)
        links: dict[int, list[EventDyad]] = {}
        for link in s.scalars(select(EventDyad)):
            links.setdefault(link.event_id, []).append(link)
        feed = list(s.scalars(select(Assessment.id).order_by(Assessment.id)))
    engine.dispose()

    # Every acknowledged revision is exactly one stored revision; none was lost or doubled.
    assert sum(r.change == "revised" for rs in revisions.values() for r in rs) == statuses["revised"]
    for event_id, e in events.items():
        history = revisions[event_id]
        assert [r.revision for r in history] == list(range(1, e.revision + 1))
        assert history[-1].content_hash == e.content_hash
        assert all(a.content_hash != b.content_hash for a, b in zip(history, history[1:]))
        latest = history[-1].payload
        assert (e.fatalities, e.injured, e.notes) == (latest["fatalities"], latest.get("injured"), latest.get("notes"))
        a, b = latest["actor1"]["country"], latest["actor2"]["country"]
        assert [(link.dyad_id, link.occurred_on) for link in links[event_id]] == [
            ("--".join(sorted((a, b))), e.occurred_on)]
    assert _assert_every_event_assessed(database_url) == 240
    assert feed == list(range(feed[0], feed[0] + len(feed)))  # ids taken without a gap
