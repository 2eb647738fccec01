"""Poll throughput with wrk (Debian's `wrk`, installed by `make bench` if missing): liveness, GET /v1/risk,
its 304 and the change feed, each beside a bare FastAPI `async def` app on uvicorn measured in the
same run (before and after the service; the mean is the baseline). PostgreSQL by default.

    .venv/bin/python bench/bench_http.py [--seconds 5] [--connections 8] [--workers 1] [--sqlite] [--access-log]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager

import httpx
from common import ROOT, events, fresh_databases, server
from tests.servers import free_port


def wrk(url: str, seconds: float, connections: int, header: str | None = None) -> float:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if header:
        cmd[1:1] = ["-H", header]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert not non2xx, out
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


@contextmanager
def bare_app():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(port), "--log-level",
                             "warning", "--no-access-log"], cwd=ROOT / "bench", stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(base + "/", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--sqlite", action="store_true", help="measure the embedded SQLite database instead")
    p.add_argument("--access-log", action="store_true", help="the service at log level info, writing its access "
                   "log (one line a request) to a file, as an operator runs it; default: warnings only")
    args = p.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk (make bench does this)")
    backend = "sqlite" if args.sqlite else "postgresql"
    url = fresh_databases()[backend]
    run = lambda u, h=None: wrk(u, args.seconds, args.connections, h)  # noqa: E731
    load_before = os.getloadavg()
    with bare_app() as bare:
        before = run(bare + "/")
        env = {"ESCALATION_LOG_LEVEL": "info"} if args.access_log else None
        with server(url, workers=args.workers, env=env) as base:
            r = httpx.post(f"{base}/v1/events/batch", json={"items": events(2000, tag="poll")}, timeout=120)
            assert r.status_code == 200, r.text[:300]
            etag = httpx.get(f"{base}/v1/risk", params={"a": "IRN", "b": "PAK"}).headers["etag"]
            figures = {
                "GET /health/live": run(base + "/health/live"),
                "GET /v1/risk?a=IRN&b=PAK": run(base + "/v1/risk?a=IRN&b=PAK"),
                "GET /v1/risk -> 304": run(base + "/v1/risk?a=IRN&b=PAK", f"If-None-Match: {etag}"),
                "GET /v1/assessments?limit=100": run(base + "/v1/assessments?limit=100"),
            }
        after = run(bare + "/")
    baseline = (before + after) / 2
    print(f"load generator: wrk -t1 -c{args.connections} -d{args.seconds}s; {backend}; "
          f"service workers: {args.workers}; access log {'on' if args.access_log else 'off'}; cores: {os.cpu_count()} (shared); load average (1, 5, 15 min) "
          f"before {' '.join(f'{x:.2f}' for x in load_before)}, after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"[{backend}] bare FastAPI async def on uvicorn  {baseline:8.0f} req/s  "
          f"(before {before:.0f}, after {after:.0f})")
    for name, rps in figures.items():
        print(f"[{backend}] {name:32s} {rps:8.0f} req/s  {rps / baseline:.2f} x bare")


if __name__ == "__main__":
    main()
