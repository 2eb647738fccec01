"""The members' advisory locks a write takes (app/storage/locks.py `lock_members`): one statement over all keys,
beside the baseline of one statement per key (what it did before 0993e9c), in the same run, on the same
PostgreSQL database. Each round is one transaction taking ALL_MEMBERS and the locks of `--members` members (an
in-order batch of 1,000 touches about 27), then committing, which releases them. Load generator: this process,
no server (the locks are the measured part of a write).

    .venv/bin/python bench/bench_member_locks.py [--rounds 300] [--members 27]
"""

import argparse
import time

from common import COUNTRIES, fresh_databases
from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from app.database import make_engine
from app.storage import locks


def one_per_key(session: Session, exclusive: list[str], shared: list[str]) -> None:
    """The baseline: the same locks in the same order, a statement each."""
    keys = {locks._member_key(m): False for m in shared} | {locks._member_key(m): True for m in exclusive}
    keys[locks.ALL_MEMBERS] = False
    for key in sorted(keys):
        take = func.pg_advisory_xact_lock if keys[key] else func.pg_advisory_xact_lock_shared
        session.execute(select(take(locks.MEMBER_LOCKS, cast(key, Integer))))


def rate(engine, take, members: list[str], rounds: int) -> float:
    """Milliseconds per transaction that takes the locks and commits (best of 3 runs of `rounds`)."""
    exclusive, shared = members[:2], members[2:]
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(rounds):
            with Session(engine) as session, session.begin():
                take(session, exclusive, shared)
        best = min(best, (time.perf_counter() - started) / rounds * 1000)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--members", type=int, default=27)
    args = parser.parse_args()
    url = fresh_databases().get("postgresql")
    if url is None:
        print("the members' locks are PostgreSQL's; SQLite takes none")
        return
    members = (COUNTRIES + [f"nsa:group-{k}" for k in range(args.members)])[:args.members]
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():  # connect, and warm both paths
            locks.lock_members(session, members[:2], members[2:])
            one_per_key(session, members[:2], members[2:])
        empty = rate(engine, lambda session, *_: session.execute(select(1)), members, args.rounds)
        baseline = rate(engine, one_per_key, members, args.rounds)
        now = rate(engine, locks.lock_members, members, args.rounds)
    finally:
        engine.dispose()
    print(f"load generator: this process; postgresql; {args.members} members a write, {args.rounds} writes, best of 3")
    print(f"  a transaction of one SELECT 1 (the floor)   {empty:6.2f} ms")
    print(f"  one statement per key (the baseline)       {baseline:6.2f} ms")
    print(f"  one statement for all keys (lock_members)  {now:6.2f} ms  ({baseline / now:.1f} x the baseline's speed)")

if __name__ == "__main__":
    main()
