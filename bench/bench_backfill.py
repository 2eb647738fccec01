"""Cost per event along a long in-order backfill through a real `escalation serve` (1,000-event batches over
14 years, ~300 dyads): the rate of each tenth of the run beside the first tenth's, and the worker's RSS
at the end. Flat cost means the last tenth is within 20% of the first. Load generator: one Python
httpx client on the same (shared) cores. PostgreSQL by default.

    .venv/bin/python bench/bench_backfill.py [--events 1000000] [--sqlite]
"""

import argparse
import time
from datetime import date, timedelta

import httpx
from common import AutovacuumStandIn, events, fresh_databases
from tests.servers import Server

YEARS = 14


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--years", type=int, default=YEARS, help="span of the dates (1: dense histories)")
    p.add_argument("--sqlite", action="store_true")
    args = p.parse_args()
    backend = "sqlite" if args.sqlite else "postgresql"
    url = fresh_databases()[backend]
    batches = args.events // 1000
    days = args.years * 365 / batches
    tenth = max(1, batches // 10)
    server = Server(url)
    rates, rss = [], [rss_mb(server.proc.pid)]
    try:
        with httpx.Client(base_url=server.base, timeout=300) as client, AutovacuumStandIn(url) as vacuum:
            start = time.perf_counter()
            for b in range(batches):
                first = date(2010, 1, 1) + timedelta(days=int(b * days))
                items = events(1000, tag=f"b{b}", seed=b, first=first, span_days=max(1, int(days) + 1))
                r = client.post("/v1/events/batch", json={"items": items})
                assert r.status_code == 200, r.text[:300]
                if (b + 1) % tenth == 0:
                    now = time.perf_counter()
                    rates.append(tenth * 1000 / (now - start))
                    rss.append(rss_mb(server.proc.pid))
                    print(f"  events {(b + 1) * 1000:>9,}: {rates[-1]:7.0f} events/s over the last {tenth * 1000:,}; "
                          f"worker RSS {rss[-1]:.0f} MiB", flush=True)
                    start = now
    finally:
        server.stop()
    print(f"load generator: one Python httpx client; {backend}; {batches * 1000:,} events in 1,000-event batches "
          f"over {args.years} years; {vacuum.describe()}")
    print(f"[{backend}] events/s by tenth: {', '.join(f'{r:.0f}' for r in rates)}")
    print(f"[{backend}] first tenth {rates[0]:7.0f} events/s; last tenth {rates[-1]:7.0f} events/s "
          f"({rates[-1] / rates[0]:.2f} x first)")
    print(f"[{backend}] worker RSS (MiB): {rss[0]:.0f} when ready, {rss[-1]:.0f} after the backfill "
          f"(by tenth: {', '.join(f'{m:.0f}' for m in rss[1:])})")


if __name__ == "__main__":
    main()
