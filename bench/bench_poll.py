"""Poll throughput of GET /v1/risk, of its 304 answer and of the change feed, beside the same server's
liveness endpoint in the same run (the ratio is the figure), on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_poll.py [--seconds 5] [--threads 4]
"""

import argparse
import threading
import time

import httpx
from common import events, fresh_databases, server


def throughput(base: str, path: str, params: dict, headers: dict, seconds: float, threads: int,
               expect: int) -> float:
    counts = [0] * threads
    stop = time.monotonic() + seconds

    def worker(n: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.monotonic() < stop:
                r = client.get(path, params=params, headers=headers)
                assert r.status_code == expect, (path, r.status_code, r.text[:200])
                counts[n] += 1

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    start = time.monotonic()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts) / (time.monotonic() - start)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--threads", type=int, default=4)
    args = p.parse_args()
    for backend, url in fresh_databases().items():
        with server(url) as base:
            r = httpx.post(f"{base}/v1/events/batch", json={"items": events(2000, tag="poll")}, timeout=120)
            assert r.status_code == 200, r.text[:300]
            risk = {"a": "IRN", "b": "PAK"}
            etag = httpx.get(f"{base}/v1/risk", params=risk).headers["etag"]
            run = lambda path, params=None, headers=None, expect=200: throughput(  # noqa: E731
                base, path, params or {}, headers or {}, args.seconds, args.threads, expect)
            live = run("/health/live")
            risk_rps = run("/v1/risk", risk)
            not_modified = run("/v1/risk", risk, {"If-None-Match": etag}, 304)
            feed = run("/v1/assessments", {"limit": 100})
        print(f"[{backend}] GET /health/live       {live:7.0f} req/s")
        print(f"[{backend}] GET /v1/risk           {risk_rps:7.0f} req/s  ({risk_rps / live:.2f} x live)")
        print(f"[{backend}] GET /v1/risk -> 304    {not_modified:7.0f} req/s  ({not_modified / live:.2f} x live)")
        print(f"[{backend}] GET /v1/assessments    {feed:7.0f} req/s  ({feed / live:.2f} x live; 100 per page)")


if __name__ == "__main__":
    main()
