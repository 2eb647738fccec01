"""`escalation import` beside HTTP batch ingest of the same events, on the same machine and database backend:
UCDP GED's Syria slice (16,566 rows, 16,515 events) imported by the command into a fresh database, and posted as
1,000-event batches (`POST /v1/events/batch`) to a real `escalation serve` on another fresh database. Both include
converting nothing for HTTP (the events are converted before the clock starts) and everything for the command
(reading, converting, validating, storing, assessing). Load generator for HTTP: one Python httpx client, one
request at a time. SQLite, and PostgreSQL at BENCH_PG_URL.

    .venv/bin/python bench/bench_import.py [--file PATH] [--format ucdp_ged]
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from common import ROOT, fresh_databases
from tests.servers import Server

from app.importers import registry

SYRIA = ROOT.parent / "shared" / "data" / "ucdp-ged-slices" / "data4ds4da_ucdp_syria_df.csv"


def command(url: str, fmt: str, path: Path) -> tuple[float, float]:
    """Seconds `escalation import` took from its first batch to its last commit, as its last line says (the model
    load before it is left out, as a server's start-up is), and the whole command's wall time."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "app.cli", "import", fmt, str(path)], cwd=ROOT,
                          env={**os.environ, "ESCALATION_DATABASE_URL": url}, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    last = done.stderr.strip().splitlines()[-1]  # "imported N events; skipped M in S s (R rows/s)"
    return float(last.split(" in ")[1].split()[0]), wall


def http(url: str, events: list[dict]) -> float:
    server = Server(url)
    try:
        with httpx.Client(base_url=server.base, timeout=300) as client:
            started = time.perf_counter()
            for k in range(0, len(events), 1000):
                r = client.post("/v1/events/batch", json=events[k:k + 1000])
                assert r.status_code == 200, r.text
            return time.perf_counter() - started
    finally:
        server.stop()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--file", type=Path, default=SYRIA)
    p.add_argument("--format", default="ucdp_ged")
    args = p.parse_args()
    events = list(registry.load(args.format, args.file))
    print(f"{args.file.name}: {len(events):,} events; the command vs HTTP batch ingest (1,000 a request, one httpx "
          "client), each into a fresh database")
    for backend in ("sqlite", "postgresql"):
        runs = [command(fresh_databases()[backend], args.format, args.file) for _ in range(3)]
        web = [http(fresh_databases()[backend], events) for _ in range(3)]
        cmd = [t for t, _ in runs]
        best_cmd, best_web = min(cmd), min(web)
        print(f"  {backend}: escalation import {len(events) / best_cmd:,.0f} events/s ({best_cmd:.1f} s; runs "
              f"{', '.join(f'{t:.1f}' for t in cmd)} s; the whole command with the model load "
              f"{', '.join(f'{w:.1f}' for _, w in runs)} s), HTTP batch ingest {len(events) / best_web:,.0f} events/s "
              f"({best_web:.1f} s; runs {', '.join(f'{t:.1f}' for t in web)} s): the command at "
              f"{best_web / best_cmd:.2f}x HTTP's rate")


if __name__ == "__main__":
    main()
