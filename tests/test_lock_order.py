"""The lock order (app.storage.locks), taken by two writers in every interleaving of their steps: events by key,
then dyad rows, then the feed's append lock. Writers that share events and dyads, and name them in opposite
orders, never deadlock: the later one waits and goes on once the other commits. A writer that breaks the order
(dyads before events) does deadlock in some interleaving, which shows the harness would see one.

PostgreSQL only: SQLite has one writer at a time (BEGIN IMMEDIATE) and takes none of these locks."""

import itertools
import threading

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.database import make_engine
from app.events.models import Event
from app.events.schemas import EventCreate
from app.risk import flow
from app.storage import feed, locks
from tests.conftest import PG_URL
from tests.factories import event

pytestmark = pytest.mark.skipif(not PG_URL, reason="PostgreSQL's row and advisory locks; SQLite has one writer")
STEP_WAIT = 0.3  # seconds a step is given before the schedule moves on (it is then waiting on the other's lock)
KEYS = [("lock-order", "a"), ("lock-order", "b")]
DYADS = ["IND--PAK", "IRN--PAK"]


def _steps(keys, dyads, order=("events", "dyads", "feed"), members=()):
    take = {"events": lambda s: locks.lock_events(s, keys, [Event.id]),
            "members": lambda s: locks.lock_members(s, exclusive=members[:1], shared=members[1:]),
            "dyads": lambda s: locks.lock_dyads(s, dyads),
            "feed": feed.feed_lock}
    return [take[name] for name in order]


def _run(engine, plans, schedule: str) -> list[BaseException]:
    """Two writers, each a thread running its steps in one transaction; step k of a writer starts when the
    schedule reaches it (its k-th letter), and the schedule moves on once the step is done or has waited
    STEP_WAIT. Returns what the writers raised."""
    go = {w: [threading.Event() for _ in plans[w]] for w in plans}
    done = {w: [threading.Event() for _ in plans[w]] for w in plans}
    failed: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            with Session(engine) as session, session.begin():
                for k, step in enumerate(plans[name]):
                    go[name][k].wait(30)
                    step(session)
                    done[name][k].set()
        except BaseException as exc:  # noqa: BLE001 (reported by the test)
            failed.append(exc)
            for d in done[name]:
                d.set()

    threads = [threading.Thread(target=writer, args=(w,)) for w in plans]
    for t in threads:
        t.start()
    taken = {w: 0 for w in plans}
    for w in schedule:
        k = taken[w]
        taken[w] += 1
        go[w][k].set()
        done[w][k].wait(STEP_WAIT)
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), f"{schedule}: a writer is still waiting"
    return failed


def _schedules(n: int) -> list[str]:
    """Every interleaving of two writers' n steps, as strings of A and B."""
    return ["".join("A" if i in chosen else "B" for i in range(2 * n))
            for chosen in map(set, itertools.combinations(range(2 * n), n))]


@pytest.fixture
def engine(database_url, scorer):
    engine = make_engine(database_url)
    with Session(engine) as session, session.begin():  # the events and dyads both writers lock
        flow.ingest(session, scorer, [EventCreate.model_validate(event(source=s, source_event_id=i, actor1={
            "name": a, "country": a, "kind": "state"}, actor2={"name": "Pakistan", "country": "PAK", "kind": "state"},
            location={"country": "PAK"})) for (s, i), a in zip(KEYS, ("IND", "IRN"))])
    yield engine
    engine.dispose()


def test_two_writers_in_the_lock_order_never_deadlock_in_any_interleaving(engine):
    plans = {"A": _steps(KEYS, DYADS), "B": _steps(KEYS[::-1], DYADS[::-1])}  # the same rows, named in reverse
    schedules = _schedules(3)
    assert len(schedules) == 20
    for schedule in schedules:
        assert _run(engine, plans, schedule) == [], schedule


def test_events_then_members_then_dyads_never_deadlock_in_any_interleaving(engine):
    """The members' locks (exclusive for one writer's first member, shared for the rest) come after the events' and
    before the dyads' (the dyads then come before the feed, above)."""
    order = ("events", "members", "dyads")
    plans = {"A": _steps(KEYS, DYADS, order, members=["PAK", "IND", "IRN"]),
             "B": _steps(KEYS[::-1], DYADS[::-1], order, members=["IRN", "PAK"])}
    for schedule in _schedules(3):
        assert _run(engine, plans, schedule) == [], schedule


def test_a_writer_out_of_order_deadlocks_in_some_interleaving(engine):
    plans = {"A": _steps(KEYS, DYADS), "B": _steps(KEYS, DYADS, order=("dyads", "events", "feed"))}
    deadlocks = [s for s in _schedules(3) if any(
        isinstance(e, OperationalError) and getattr(e.orig, "sqlstate", None) == locks.DEADLOCK
        for e in _run(engine, plans, s))]
    assert deadlocks, "no interleaving deadlocked: the harness would not see a broken order"
