"""Scoring latency (wall, and the process's CPU time), the vectorised path beside the per-event one it replaced (tests/ml/reference.py) and bare
predict_proba on a prebuilt matrix, all in the same run:

  in memory: one dyad; a 300-dyad batch (what one 1,000-event ingest batch re-assesses); 1,000 dyads
  from a database (SQLite, and PostgreSQL at BENCH_PG_URL): the history read + scoring of 300 dyads as
      `reassess` does it, and a cold ranking of every dyad (`GET /v1/dyads` with an empty cache)

    .venv/bin/python bench/bench_scoring.py [--no-db]
"""

import argparse
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import fresh_databases  # noqa: E402
from sqlalchemy import select  # noqa: E402

from app.database import make_engine, make_sessionmaker  # noqa: E402
from app.events import history as event_history  # noqa: E402
from app.events import members as member_ids  # noqa: E402
from app.events.facts import DYAD_KINDS, DyadContext, EventFact  # noqa: E402
from app.events.models import Dyad  # noqa: E402
from app.events.schemas import EventCreate  # noqa: E402
from app.ml.features import LOOKBACK_DAYS, build_matrix  # noqa: E402
from app.ml.scorer import _THREADS, load_scorer  # noqa: E402
from app.risk import flow  # noqa: E402
from app.risk import service as risk_service  # noqa: E402
from app.risk.cache import RiskCache  # noqa: E402
from tests.ml import reference  # noqa: E402

AS_OF = date(2024, 1, 18)
TODAY = datetime.now(timezone.utc).date()
STATES = ["IRN", "PAK", "IND", "AFG", "RUS", "UKR", "ISR", "LBN", "SYR", "TUR", "ARM", "AZE", "CHN", "TWN", "PRK",
          "KOR", "SAU", "YEM", "ETH", "ERI", "SDN", "SSD", "COD", "RWA", "VEN", "COL", "IRQ", "EGY", "LBY", "TCD",
          "NER", "MLI", "BFA", "NGA", "CMR", "SOM", "KEN", "UGA", "MMR", "THA", "KHM", "VNM", "PHL", "IDN", "GEO",
          "BLR"]  # 46 states: 1,035 dyads


def history(rng: random.Random) -> list[EventFact]:
    """A plausible dyad: 0-60 events over two years, both directions, some deaths."""
    return [
        EventFact(
            occurred_on=AS_OF - timedelta(days=rng.randrange(0, 730)),
            initiator=a,
            target=b,
            hostility=rng.randint(2, 5),
            rung=rng.randint(1, 10),
            fatalities=rng.choice([0, 0, 2, 9, 40]),
            directed=rng.random() > 0.3,
            standoff=rng.random() > 0.7,
        )
        for a, b in (rng.choice([("AAA", "BBB"), ("BBB", "AAA")]) for _ in range(rng.randrange(0, 60)))
    ]


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


class Best(float):
    """The best wall time of a few runs in ms, carrying the process CPU time of that run (`.cpu`): on a shared
    machine the CPU time is the steadier figure (it leaves out the database server's and other processes' time)."""

    cpu: float

    def __str__(self) -> str:
        return f"{float(self):.0f} ms (CPU {self.cpu:.0f} ms)"


def best(fn, repeat: int = 5) -> Best:
    runs = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    wall, cpu = min(runs)
    out = Best(wall * 1e3)
    out.cpu = cpu * 1e3
    return out


def predict(scorer, X: np.ndarray) -> list:
    """The baseline: bare predict_proba of every target, under the same one-thread limit as score_many."""
    with _THREADS.limit(limits=1, user_api="openmp"):
        return [scorer.models[t].predict_proba(X) for t in scorer.targets]


def in_memory(scorer) -> None:
    rng = random.Random(0)
    items = [(history(rng), AS_OF, DyadContext(kind=rng.choice(DYAD_KINDS))) for _ in range(1000)]
    new, old = scorer.score_many(items), reference.score_many(scorer, items)
    assert all(a.features == b.features and a.probabilities == b.probabilities and a.drivers == b.drivers
               for a, b in zip(new, old)), "the vectorised path must equal the reference"
    one = items[0]
    X = build_matrix(items)
    single = np.array(timed(lambda: scorer.score(*one), 300)) * 1e3
    single_old = np.array(timed(lambda: reference.score_many(scorer, [one]), 300)) * 1e3
    bare = np.array(timed(lambda: predict(scorer, X[:1]), 300)) * 1e3
    print(f"model {scorer.version}, {len(scorer.targets)} targets, {X.shape[1]} features; outputs equal: yes")
    print(f"one dyad   score(): p50 {np.percentile(single, 50):.2f} ms  p99 {np.percentile(single, 99):.2f} ms;  "
          f"before p50 {np.percentile(single_old, 50):.2f} ms;  bare predict_proba x{len(scorer.targets)} on a "
          f"prebuilt row p50 {statistics.median(bare):.2f} ms")
    for n in (300, 1000):
        part, Xn = items[:n], X[:n]
        after, before = best(lambda: scorer.score_many(part)), best(lambda: reference.score_many(scorer, part))
        bare = best(lambda: predict(scorer, Xn))
        print(f"{n:>5} dyads score_many(): {after}, before {before} ({before.cpu / after.cpu:.1f}x less CPU);"
              f"  bare predict_proba x{len(scorer.targets)} on the prebuilt matrix {bare} "
              f"(CPU now {after.cpu / bare.cpu:.1f}x bare, was {before.cpu / bare.cpu:.1f}x)")


def stored_events(n: int, seed: int = 0) -> list[dict]:
    """n events over the 1,035 dyads of STATES, dated over the 600 days before today."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        a, b = rng.sample(STATES, 2)
        fatalities = rng.choice([0, 0, 0, 1, 2, 5, 12, 40])
        out.append({
            "source": "bench", "source_event_id": f"score-{seed}-{i}",
            "occurred_on": (TODAY - timedelta(days=rng.randrange(600))).isoformat(),
            "actor1": {"name": a, "country": a, "kind": "state"}, "actor2": {"name": b, "country": b, "kind": "state"},
            "location": {"country": rng.choice([a, b])},
            "action": rng.choice(["attack", "clash", "show_of_force", "threat_to_use_force", "border_violation",
                                  "talks", "ceasefire"]),
            "fatalities": fatalities, "civilian_fatalities": rng.randint(0, fatalities),
            "weapons": rng.sample(["drone", "artillery", "small_arms"], rng.randrange(0, 3)),
            "retaliation": rng.random() < 0.2,
        })
    return out


def from_database(scorer, backend: str, url: str, events: int) -> None:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine, writer=True)
    started = time.perf_counter()
    for k in range(0, events, 2000):
        with sessions() as session:
            flow.ingest(session, scorer, [EventCreate.model_validate(e) for e in stored_events(2000, seed=k)])
            session.commit()
    if backend == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")  # as autovacuum would (off on the shared cluster)
    with sessions() as session:
        dyads = list(session.scalars(select(Dyad.id).order_by(Dyad.id)))
    print(f"{backend}: {events:,} events over {len(dyads):,} dyads stored ({time.perf_counter() - started:.0f} s)")
    touched = random.Random(1).sample(dyads, 300)

    def reassess_read(windows, score_many):
        with sessions() as session:
            found = windows(session, touched, LOOKBACK_DAYS)
            score_many([(found[d].facts, found[d].last_on, scorer.context_for(*member_ids.dyad_members(d),
                                                                                found[d].last_on)) for d in touched])

    def read_only(windows):
        with sessions() as session:
            windows(session, touched, LOOKBACK_DAYS)

    after = best(lambda: reassess_read(event_history.windows, scorer.score_many))
    before = best(lambda: reassess_read(reference.windows, lambda items: reference.score_many(scorer, items)))
    read_after, read_before = best(lambda: read_only(event_history.windows)), best(lambda: read_only(reference.windows))
    print(f"  300 dyads, history read + score_many (reassess's read side): {after}, before {before} "
          f"({before / after:.1f}x faster, {before.cpu / after.cpu:.1f}x less CPU); of which the history read "
          f"{read_after}, before {read_before}")

    def ranking(ranked):
        with sessions() as session:
            return ranked(session)

    new = ranking(lambda s: risk_service.ranked(s, scorer, RiskCache(), TODAY, country=None, min_level=None,
                                                offset=0, limit=len(dyads)))
    old = ranking(lambda s: reference.ranked(s, scorer, TODAY))
    assert [d.model_dump_json() for d in new] == [d.model_dump_json() for d in old], "rankings must be equal"
    after = best(lambda: ranking(lambda s: risk_service.ranked(s, scorer, RiskCache(), TODAY, country=None,
                                                               min_level=None, offset=0, limit=len(dyads))), 3)
    before = best(lambda: ranking(lambda s: reference.ranked(s, scorer, TODAY)), 3)
    print(f"  cold ranking of {len(dyads):,} dyads (risk.service.ranked, empty cache): {after}, "
          f"before {before} ({before / after:.1f}x faster, {before.cpu / after.cpu:.1f}x less CPU); answers equal: yes")
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-db", action="store_true", help="in-memory figures only")
    parser.add_argument("--events", type=int, default=20000, help="events stored for the database figures")
    args = parser.parse_args()
    scorer = load_scorer()
    in_memory(scorer)
    if not args.no_db:
        for backend, url in fresh_databases().items():
            from_database(scorer, backend, url, args.events)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
