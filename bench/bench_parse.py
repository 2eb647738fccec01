"""The strict JSON reading of request bodies (app.http.parse_json: UTF-8 only, no key twice) beside the standard
library's json.loads that Starlette used, on a 1,000-event batch body, in the same run.

    .venv/bin/python bench/bench_parse.py
"""

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.http import parse_json  # noqa: E402
from tests.factories import many  # noqa: E402

RUNS = 50


def timed(parse, body: bytes) -> list[float]:
    out = []
    for _ in range(RUNS):
        start = time.perf_counter()
        parse(body)
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    body = json.dumps({"items": many(1000)}).encode()
    assert parse_json(body) == json.loads(body)
    for _ in range(3):  # alternate, so both see the same machine
        for name, parse in (("json.loads (baseline)", json.loads), ("parse_json", parse_json)):
            ms = timed(parse, body)
            print(f"{name:22} {len(body):,} bytes: median {statistics.median(ms):.2f} ms, min {min(ms):.2f} ms "
                  f"over {RUNS} runs")


if __name__ == "__main__":
    main()
