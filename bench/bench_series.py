"""Risk through time for a dense dyad: `GET /v1/dyads/{id}/series` (one history read, one scoring batch) beside
the same dates asked one at a time as `GET /v1/risk?as_of=` computes them (a window read and a score each, no
cache), in the same run and process, on SQLite and PostgreSQL (BENCH_PG_URL). Both sides include serialising the
answer to JSON; no HTTP (the series route adds one request's overhead to its figure).

    .venv/bin/python bench/bench_series.py [--years 10] [--per-day 1.5] [--step 7]
"""

import argparse
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_scoring import best  # noqa: E402
from common import fresh_databases  # noqa: E402

from app.database import make_engine, make_sessionmaker  # noqa: E402
from app.events.schemas import EventCreate  # noqa: E402
from app.http import utc_today  # noqa: E402
from app.ml.scorer import load_scorer  # noqa: E402
from app.risk import flow  # noqa: E402
from app.risk import service as risk_service  # noqa: E402
from app.risk.cache import RiskCache  # noqa: E402

DYAD = "IRQ--nsa:islamic-state"


def dense(years: int, per_day: float, seed: int = 0) -> list[dict]:
    """A state and an armed group fighting for `years` (about `per_day` events a day, in bursts and lulls),
    ending yesterday: as dense as UCDP GED's busiest state-based dyads."""
    rng = random.Random(seed)
    end = utc_today() - timedelta(days=1)
    first = end - timedelta(days=365 * years)
    out = []
    for n in range(int(365 * years * per_day)):
        day = first + timedelta(days=int((rng.random() ** 0.8) * 365 * years))
        by_state = rng.random() < 0.6
        state = {"name": "Iraqi Security Forces", "country": "IRQ", "kind": "state"}
        group = {"name": "Islamic State", "kind": "non_state"}
        fatalities = rng.choice([0, 0, 1, 2, 4, 9, 25])
        out.append({
            "source": "bench", "source_event_id": f"series-{n}", "occurred_on": day.isoformat(),
            "actor1": state if by_state else group, "actor2": group if by_state else state,
            "location": {"country": "IRQ", "admin1": rng.choice(["Nineveh", "Anbar", "Salah al-Din", "Kirkuk"])},
            "action": rng.choice(["attack", "attack", "clash", "show_of_force", "threat_to_use_force"]),
            "fatalities": fatalities, "civilian_fatalities": rng.randint(0, fatalities),
            "weapons": rng.sample(["small_arms", "artillery", "drone", "ied", "airstrike"], rng.randrange(0, 3)),
            "retaliation": rng.random() < 0.1,
        })
    return out


def run(scorer, backend: str, url: str, events: list[dict], step: int, years: int) -> None:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine, writer=True)
    started = time.perf_counter()
    for k in range(0, len(events), 1000):
        with sessions() as session:
            flow.ingest(session, scorer, [EventCreate.model_validate(e) for e in events[k:k + 1000]])
            session.commit()
    if backend == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    today = utc_today()
    dates = risk_service.series_dates(today - timedelta(days=365 * years), today, step)
    print(f"{backend}: {len(events):,} events of {DYAD} over {years} years stored "
          f"({time.perf_counter() - started:.0f} s); {len(dates)} dates every {step} days")

    def series() -> bytes:
        with sessions() as session:
            dyad, marker = risk_service.get_dyad(session, DYAD)
            return risk_service.through_time(session, scorer, dyad, dates, step, marker).model_dump_json().encode()

    def singles() -> list:
        with sessions() as session:
            dyad, marker = risk_service.get_dyad(session, DYAD)
            answers = [risk_service.current(session, scorer, RiskCache(), dyad, d, marker) for d in dates]
            return [(a, a.model_dump_json().encode()) for a in answers]

    from app.risk.schemas import RiskSeries
    points = RiskSeries.model_validate_json(series()).points
    one_by_one = [a for a, _ in singles()]
    assert all(p.probability == a.probability and p.interval == a.interval and p.event_count == a.event_count
               for p, a in zip(points, one_by_one)), "each point must equal its date's answer"
    fast, slow = best(series, 5), best(singles, 3)
    print(f"  series of {len(dates)} dates: {fast}; the same dates one at a time: {slow} "
          f"({slow / fast:.0f}x the series' time); answers equal: yes")
    engine.dispose()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--years", type=int, default=10)
    p.add_argument("--per-day", type=float, default=1.5)
    p.add_argument("--step", type=int, default=7)
    args = p.parse_args()
    scorer = load_scorer()
    events = dense(args.years, args.per_day)
    print(f"model {scorer.version}; bench_series, in process (no load generator: one caller, best of 5 and of 3)")
    for backend, url in fresh_databases().items():
        run(scorer, backend, url, events, args.step, args.years)


if __name__ == "__main__":
    main()
