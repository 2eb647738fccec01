"""Scoring latency: one dyad (features + predict + drivers) and a 1,000-dyad batch, against bare predict_proba."""

import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.events.facts import DYAD_KINDS, DyadContext, EventFact  # noqa: E402
from app.ml.features import build_matrix  # noqa: E402
from app.ml.scorer import load_scorer  # noqa: E402

AS_OF = date(2024, 1, 18)


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


def main() -> int:
    scorer = load_scorer()
    rng = random.Random(0)
    items = [(history(rng), AS_OF, DyadContext(kind=rng.choice(DYAD_KINDS))) for _ in range(1000)]
    one = items[0]
    X = build_matrix(items)
    scorer.score(*one)  # warm up
    single = np.array(timed(lambda: scorer.score(*one), 300)) * 1e3
    bare = np.array(timed(lambda: [scorer.models[t].predict_proba(X[:1]) for t in scorer.targets], 300)) * 1e3
    batch = min(timed(lambda: scorer.score_many(items), 5))
    bare_batch = min(timed(lambda: [scorer.models[t].predict_proba(X) for t in scorer.targets], 5))
    print(f"model {scorer.version}, {len(scorer.targets)} targets, {X.shape[1]} features")
    print(
        f"one dyad   score(): p50 {np.percentile(single, 50):.2f} ms  p99 {np.percentile(single, 99):.2f} ms  "
        f"(bare predict_proba x{len(scorer.targets)} on a prebuilt row: p50 {statistics.median(bare):.2f} ms; "
        f"ratio {np.percentile(single, 50) / statistics.median(bare):.1f}x)"
    )
    print(
        f"1000 dyads score_many(): {batch * 1e3:.0f} ms  (bare predict_proba on a prebuilt 1000-row matrix: "
        f"{bare_batch * 1e3:.0f} ms; ratio {batch / bare_batch:.1f}x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
