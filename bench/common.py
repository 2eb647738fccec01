"""Shared by the benchmarks: fresh databases, event generators; servers come from tests/servers.py."""

import os
import random
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import migrate  # noqa: E402
from tests.servers import server  # noqa: E402,F401  (re-exported for the benchmarks)

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# The benchmark's own database, named after the one BENCH_PG_URL points at (test_speed -> test_speed_bench).
BENCH_DB = PG_ADMIN_URL.rsplit("/", 1)[1] + "_bench"
COUNTRIES = ["IRN", "PAK", "IND", "AFG", "RUS", "UKR", "ISR", "LBN", "SYR", "TUR", "ARM", "AZE", "CHN", "TWN",
             "PRK", "KOR", "SAU", "YEM", "ETH", "ERI", "SDN", "SSD", "COD", "RWA", "VEN", "COL"]


def fresh_databases() -> dict[str, str]:
    """An empty, migrated database per backend: a temporary SQLite file and a dedicated PostgreSQL database."""
    urls = {"sqlite": f"sqlite:///{tempfile.mkdtemp(prefix='bench-')}/bench.db"}
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {BENCH_DB}"))
        admin.dispose()
        urls["postgresql"] = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{BENCH_DB}"
    except Exception as exc:  # report, and still measure SQLite
        print(f"PostgreSQL unavailable ({type(exc).__name__}); measuring SQLite only")
    for url in urls.values():
        migrate.upgrade(url)
    return urls


def events(n: int, *, tag: str, seed: int = 0, period: int = 0, span_days: int = 30,
           first: date | None = None) -> list[dict]:
    """n distinct valid events over ~300 state dyads, dated within `span_days` from the start of
    `period` (30-day steps from Jan 2010) or from `first`.

    Successive periods make a time-ordered stream, as live reporting is; a long span with a
    shuffled order is a backfill of an export (ACLED's arrive newest first).
    """
    rng = random.Random(seed)
    first = first or date(2010, 1, 1) + timedelta(days=30 * period)
    out = []
    for i in range(n):
        a, b = rng.sample(COUNTRIES, 2)
        action = rng.choice(["attack", "clash", "show_of_force", "threat_to_use_force", "border_violation"])
        fatalities = rng.choice([0, 0, 0, 1, 2, 5, 12])
        out.append({
            "source": "bench", "source_event_id": f"{tag}-{i}",
            "occurred_on": (first + timedelta(days=rng.randrange(span_days))).isoformat(),
            "actor1": {"name": a, "country": a, "kind": "state"},
            "actor2": {"name": b, "country": b, "kind": "state"},
            "location": {"country": b}, "action": action, "fatalities": fatalities,
            "civilian_fatalities": rng.randint(0, fatalities), "weapons": rng.sample(["drone", "artillery", "small_arms"], 1),
            "retaliation": rng.random() < 0.2,
        })
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def autovacuum_stand_in(url: str) -> bool:
    """ANALYZE the database when the server's autovacuum is off (as on the shared test cluster), as
    autovacuum would after the tables grew: without statistics the planner scans whole tables.
    Returns whether it had to."""
    if not url.startswith("postgresql"):
        return False
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        off = conn.execute(text("SHOW autovacuum")).scalar() == "off"
        if off:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    return off
