"""Batch ingest with scoring through a real `escalation serve`, beside the raw Core insert rate of the same
rows into the same database measured in the same run. Load generator: Python httpx clients on the
same cores. PostgreSQL by default (`--sqlite` for the embedded database).

  in-order:   10 x 1,000 events, each batch the next 30 days (live reporting)
  shuffled:   10 x 1,000 events, random dates over 14 years (a backfill of an export)
  concurrent: `serve --workers 2`, 4 writers x 200-event batches, dates over a year; the writers
              share half their keys and a quarter of their items revise an event another sent
  two in flight: `serve --workers 2`, the in-order and shuffled scenarios again with twice the batches (fresh
              database), posted by two clients taking alternate batches: one is written while the other is scored

    .venv/bin/python bench/bench_ingest.py [--batches 10] [--sqlite]
"""

import argparse
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone

import httpx
from common import autovacuum_stand_in, events, fresh_databases, server
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app.storage import bulk
from app.database import make_engine, make_sessionmaker
from app.events import service
from app.events.models import Event
from app.events.schemas import EventCreate
from app.risk.models import Assessment


def raw_insert_rate(url: str, rows: list[dict]) -> float:
    """The floor: the same events as plain rows, one Core executemany, one commit."""
    engine = make_engine(url)
    now = datetime.now(timezone.utc)
    prepared = []
    for item in (EventCreate.model_validate(r) for r in rows):
        row = service._row(item)
        row.update(source="raw", source_event_id=item.source_event_id, revision=1, content_hash="x" * 64,
                   created_at=now, updated_at=now, retracted_at=None)
        prepared.append(row)
    start = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(Event.__table__), prepared)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return len(rows) / elapsed


def raw_copy_rate(url: str, rows: list[dict]) -> float:
    """A faster floor on PostgreSQL: the same rows through COPY (app.storage.bulk), one commit. Printed beside the
    Core-insert floor; the ratios stay against the Core insert, the baseline the issue names."""
    engine = make_engine(url)
    now = datetime.now(timezone.utc)
    prepared = []
    for item in (EventCreate.model_validate(r) for r in rows):
        row = service._row(item)
        row.update(source="copy", source_event_id=item.source_event_id, revision=1, content_hash="x" * 64,
                   created_at=now, updated_at=now, retracted_at=None)
        prepared.append(row)
    start = time.perf_counter()
    with Session(engine) as session:
        bulk.insert_rows(session, Event, prepared)
        session.commit()
    elapsed = time.perf_counter() - start
    engine.dispose()
    return len(rows) / elapsed


def post_all(base: str, batches: list[list[dict]]) -> float:
    with httpx.Client(base_url=base, timeout=300) as client:
        start = time.perf_counter()
        for batch in batches:
            r = client.post("/v1/events/batch", json={"items": batch})
            assert r.status_code == 200, r.text[:300]
        return sum(map(len, batches)) / (time.perf_counter() - start)


def post_together(base: str, streams: list[list[list[dict]]]) -> float:
    """Each stream posted by a client of its own, all at once; the seconds until the last is done. A client's
    failure is raised here, not left in its thread (where the time would still count as a rate)."""
    start = time.perf_counter()
    with ThreadPoolExecutor(len(streams)) as pool:
        for done in [pool.submit(post_all, base, s) for s in streams]:
            done.result()
    return time.perf_counter() - start


def two_in_flight(url: str, batches: int) -> tuple[float, float]:
    """The in-order and shuffled scenarios with two batches in flight (two clients taking alternate batches)
    through `serve --workers 2`, on a fresh database: what a client that pipelines its batches gets from the
    second core. `batches` of each: the one-writer scenarios' batches first, then as many after them."""
    def post_alternate(base: str, stream: list[list[dict]]) -> float:
        return sum(map(len, stream)) / post_together(base, [stream[0::2], stream[1::2]])

    with server(url, workers=2) as base:
        post_all(base, [events(1000, tag="warm", seed=99, period=0)])
        autovacuum_stand_in(url)
        in_order = post_alternate(base, [events(1000, tag=f"in{b}", seed=10 + b, period=b) for b in range(batches)])
        autovacuum_stand_in(url)
        shuffled = post_alternate(base, [events(1000, tag=f"sh{b}", seed=30 + b, first=date(2010, 1, 1),
                                                span_days=14 * 365) for b in range(batches)])
    return in_order, shuffled


def concurrent(url: str, writers: int = 4, per_writer: int = 2000, size: int = 200) -> tuple[float, float]:
    rng = random.Random(7)
    shared = events(per_writer // 2, tag="shared", seed=1, first=date(2023, 1, 1), span_days=365)
    streams = []
    for w in range(writers):
        own = events(per_writer // 2, tag=f"own{w}", seed=10 + w, first=date(2023, 1, 1), span_days=365)
        mine = [dict(e) for e in shared] + own
        for e in rng.sample(range(len(shared)), len(shared) // 2):  # revisions of shared keys
            mine[e]["fatalities"] += 1 + w
            mine[e]["civilian_fatalities"] = 0
        rng.shuffle(mine)
        streams.append([mine[i:i + size] for i in range(0, len(mine), size)])
    with server(url, workers=2) as base:
        elapsed = post_together(base, streams)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s:
        stored = s.scalar(select(func.count()).select_from(Assessment))
    engine.dispose()
    total = writers * per_writer
    return total / elapsed, stored / total


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--batches", type=int, default=10)
    p.add_argument("--sqlite", action="store_true")
    args = p.parse_args()
    backend = "sqlite" if args.sqlite else "postgresql"
    url = fresh_databases()[backend]
    raw = max(raw_insert_rate(url, events(1000, tag=f"raw{n}", seed=n)) for n in range(3))
    copied = max(raw_copy_rate(url, events(1000, tag=f"copy{n}", seed=n)) for n in range(3)) if not args.sqlite else None
    with server(url) as base:
        # a warm-up batch, then statistics as autovacuum would have them (it is off on the shared cluster)
        post_all(base, [events(1000, tag="warm", seed=99, period=0)])
        analyzed = autovacuum_stand_in(url)
        in_order = post_all(base, [events(1000, tag=f"in{b}", seed=10 + b, period=b) for b in range(args.batches)])
        autovacuum_stand_in(url)
        shuffled = post_all(base, [events(1000, tag=f"sh{b}", seed=30 + b, first=date(2010, 1, 1),
                                          span_days=14 * 365) for b in range(args.batches)])
    url = fresh_databases()[backend]
    together, per_event = concurrent(url)
    piped_in, piped_sh = two_in_flight(fresh_databases()[backend], 2 * args.batches)
    print(f"load generator: Python httpx on the same 2 (shared) cores; {backend}"
          + ("; autovacuum off here: ANALYZE run between scenarios" if analyzed else ""))
    print(f"[{backend}] raw Core insert of the same rows (best of 3) {raw:8.0f} events/s  (the baseline of the ratios)")
    if copied:
        print(f"[{backend}] raw COPY of the same rows (best of 3)        {copied:8.0f} events/s  ({copied / raw:.2f} x raw)")
    print(f"[{backend}] batch ingest + scoring, in order         {in_order:8.0f} events/s  ({in_order / raw:.2f} x raw)")
    print(f"[{backend}] batch ingest + scoring, shuffled 14 y    {shuffled:8.0f} events/s  ({shuffled / raw:.2f} x raw)")
    print(f"[{backend}] 4 writers, serve --workers 2, overlaps   {together:8.0f} events/s  ({together / raw:.2f} x raw; "
          f"{per_event:.2f} assessments stored per event)")
    for name, rate in (("in order", piped_in), ("shuffled", piped_sh)):
        print(f"[{backend}] two in flight, workers 2, {name}       {rate:8.0f} events/s  ({rate / raw:.2f} x raw)")


if __name__ == "__main__":
    main()
