"""Batch ingest through HTTP (1,000 events a request, scoring on) beside the raw Core insert rate of the
same rows into the same database; single-event POST latency. Prints figures and ratios per backend.

    .venv/bin/python bench/bench_ingest.py [--batches 10]
"""

import argparse
import time
from datetime import datetime, timezone

import httpx
from common import events, fresh_databases, percentile, server
from sqlalchemy import insert

from app.database import make_engine, make_sessionmaker
from app.events import service
from app.events.models import Event
from app.events.schemas import EventCreate


def raw_insert_rate(url: str, rows: list[dict]) -> float:
    """The floor: the same events as plain rows, one Core executemany, one commit."""
    engine = make_engine(url)
    items = [EventCreate.model_validate(r) for r in rows]
    now = datetime.now(timezone.utc)
    prepared = []
    for item in items:
        row = service._row(item)
        row.update(source="raw-" + item.source_event_id.split("-")[0], source_event_id=item.source_event_id, revision=1, content_hash="x" * 64,
                   created_at=now, updated_at=now, retracted_at=None)
        prepared.append(row)
    start = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(Event.__table__), prepared)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return len(rows) / elapsed


def service_rate(url: str, rows: list[dict]) -> float:
    """Validation + idempotent ingest (events, revisions, dyads, links) in-process, without HTTP or scoring."""
    factory = make_sessionmaker(make_engine(url), writer=True)
    start = time.perf_counter()
    items = [EventCreate.model_validate(r) for r in rows]
    with factory.begin() as session:
        service.ingest(session, items)
    return len(rows) / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--batches", type=int, default=10)
    p.add_argument("--single", type=int, default=200)
    args = p.parse_args()
    for backend, url in fresh_databases().items():
        # best of three: a single 1,000-row run is at the mercy of one fsync or plan
        raw = max(raw_insert_rate(url, events(1000, tag=f"raw{n}", seed=n)) for n in range(3))
        svc = max(service_rate(url, events(1000, tag=f"svc{n}", seed=n, period=n)) for n in range(3))
        with server(url) as base, httpx.Client(base_url=base, timeout=120) as client:
            batches = [events(1000, tag=f"http{b}", seed=10 + b, period=b) for b in range(args.batches)]
            start = time.perf_counter()
            for batch in batches:
                r = client.post("/v1/events/batch", json={"items": batch})
                assert r.status_code == 200 and r.json()["created"] == 1000, r.text[:300]
            http = args.batches * 1000 / (time.perf_counter() - start)
            latencies = []
            for i, item in enumerate(events(args.single, tag="single", seed=99, period=args.batches)):
                t = time.perf_counter()
                assert client.post("/v1/events", json=item).status_code == 201
                latencies.append((time.perf_counter() - t) * 1000)
        print(f"[{backend}] raw Core insert:            {raw:9.0f} events/s")
        print(f"[{backend}] service ingest, no HTTP/score: {svc:9.0f} events/s  ({svc / raw:.2f} x raw)")
        print(f"[{backend}] HTTP batch ingest + scoring: {http:9.0f} events/s  ({http / raw:.2f} x raw)")
        print(f"[{backend}] single POST latency:         p50 {percentile(latencies, .5):.1f} ms, "
              f"p99 {percentile(latencies, .99):.1f} ms  (n={len(latencies)})")


if __name__ == "__main__":
    main()
