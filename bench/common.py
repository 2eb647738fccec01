"""Shared by the benchmarks: fresh databases, event generators; servers come from tests/servers.py."""

import os
import random
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

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


class AutovacuumStandIn:
    """A background autovacuum for a cluster that runs with it off (as the shared test cluster does):
    every `autovacuum_naptime` it VACUUMs / ANALYZEs the tables past the server's own thresholds, as
    the autovacuum launcher would (analyze: rows changed since the last analyze > analyze_threshold +
    analyze_scale_factor x rows; vacuum: dead rows, or rows inserted since the last vacuum, past the
    matching thresholds).

    It runs concurrently with the load, so its cost is inside the timed run, as real autovacuum's is.
    A context manager; `runs` lists (seconds since start, statement). With autovacuum on, or on
    SQLite, it does nothing.
    """

    _SETTINGS = ("autovacuum", "autovacuum_naptime", "autovacuum_analyze_threshold",
                 "autovacuum_analyze_scale_factor", "autovacuum_vacuum_threshold", "autovacuum_vacuum_scale_factor",
                 "autovacuum_vacuum_insert_threshold", "autovacuum_vacuum_insert_scale_factor")

    def __init__(self, url: str, naptime: float | None = None):
        self.url, self.naptime, self.runs, self.active = url, naptime, [], False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._engine = None
        self.failed: Exception | None = None

    def __enter__(self) -> "AutovacuumStandIn":
        if not self.url.startswith("postgresql"):
            return self
        self._engine = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with self._engine.connect() as conn:
            st = dict(conn.execute(text("SELECT name, setting FROM pg_settings WHERE name = ANY(:names)"),
                                   {"names": list(self._SETTINGS)}).all())  # naptime in seconds
        if st["autovacuum"] != "off":
            return self
        self.active, self._settings = True, {k: float(v) for k, v in st.items() if k != "autovacuum"}
        self.naptime = self.naptime or self._settings["autovacuum_naptime"]
        self._start = time.perf_counter()
        self._thread = threading.Thread(target=self._loop, name="autovacuum-stand-in", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        try:
            self._naps()
        except Exception as exc:  # reported by describe(), not lost in a dead thread
            self.failed = exc

    def _naps(self) -> None:
        st = self._settings
        while not self._stop.wait(self.naptime):
            with self._engine.connect() as conn:
                rows = conn.execute(text(
                    "SELECT s.relname, c.reltuples, s.n_mod_since_analyze, s.n_dead_tup, s.n_ins_since_vacuum "
                    "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
                    "WHERE c.relpersistence = 'p'")).all()  # not the writers' temporary staging tables
                for name, tuples, modified, dead, inserted in rows:
                    tuples = max(float(tuples), 0.0)  # -1: never analysed
                    analyze = modified > st["autovacuum_analyze_threshold"] + st[
                        "autovacuum_analyze_scale_factor"] * tuples
                    vacuum = (dead > st["autovacuum_vacuum_threshold"] + st["autovacuum_vacuum_scale_factor"] * tuples
                              or st["autovacuum_vacuum_insert_threshold"] >= 0  # -1: insert vacuums off
                              and inserted > st["autovacuum_vacuum_insert_threshold"]
                              + st["autovacuum_vacuum_insert_scale_factor"] * tuples)
                    if analyze or vacuum:
                        statement = {(True, True): "VACUUM (ANALYZE)", (True, False): "VACUUM",
                                     (False, True): "ANALYZE"}[(vacuum, analyze)] + f' "{name}"'
                        conn.execute(text(statement))
                        self.runs.append((time.perf_counter() - self._start, statement))

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._engine is not None:
            self._engine.dispose()

    def describe(self) -> str:
        if not self.active:
            return "autovacuum on (or SQLite): no stand-in needed"
        return (f"autovacuum is off on this cluster: a stand-in applied its thresholds every {self.naptime:.0f} s, "
                f"concurrently and timed ({len(self.runs)} VACUUM/ANALYZE statements"
                + (f"; it FAILED and stopped: {self.failed!r})" if self.failed else ")"))
