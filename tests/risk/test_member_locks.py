"""Two writers on dyads of one member at once (PostgreSQL, where writers overlap): the stored answer reads the
other's front (app.storage.locks.lock_members). SQLite has one writer at a time and needs no such lock."""

import threading
import time

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.database import make_engine
from app.events.schemas import EventCreate
from app.risk import flow
from app.risk.models import Assessment, DyadRisk
from app.storage import locks
from tests.conftest import PG_URL
from tests.factories import IRAN_STRIKE, IRAQ, PAKISTAN_RETALIATION, event

pytestmark = pytest.mark.skipif(not PG_URL, reason="PostgreSQL's overlapping writers; SQLite has one writer")


def _latest(engine, dyad_id: str) -> Assessment:
    with Session(engine) as session:
        return session.scalars(select(Assessment).join(DyadRisk, DyadRisk.assessment_id == Assessment.id)
                               .where(DyadRisk.dyad_id == dyad_id)).one()


def test_a_front_written_while_another_writer_moves_the_answer_is_in_the_stored_answer(database_url, scorer):
    """T1 moves IRN--PAK's answer from 1 Dec to 18 Jan (Pakistan's strike); T2 writes Iran's strike on Iraq of 15 Jan
    meanwhile. Without the members' locks T2 finds IRN--PAK as of 1 Dec (no neighbour: 15 Jan is after it) and T1
    read Iran's fronts before T2 committed: IRN--PAK's stored answer would lack the Iraq front."""
    engine = make_engine(database_url)
    old = event(IRAN_STRIKE, source_event_id="2023-12-01-irn-pak", occurred_on="2023-12-01")
    with Session(engine) as session, session.begin():
        flow.ingest(session, scorer, [EventCreate.model_validate(old)])
    assert str(_latest(engine, "IRN--PAK").as_of) == "2023-12-01"

    t2_done = threading.Event()
    failed: list[BaseException] = []

    def t2() -> None:
        try:
            with Session(engine) as session, session.begin():
                flow.ingest(session, scorer, [EventCreate.model_validate(IRAQ)])
            t2_done.set()
        except BaseException as exc:  # noqa: BLE001 (reported below)
            failed.append(exc)

    try:
        with Session(engine) as session, session.begin():
            flow.ingest(session, scorer, [EventCreate.model_validate(PAKISTAN_RETALIATION)])
            writer = threading.Thread(target=t2)
            writer.start()
            _until_a_writer_waits_on_an_advisory_lock(engine)  # Iran's (without the members' locks: the feed's)
            assert not t2_done.is_set()  # T2 waits for T1 ...
        writer.join(30)  # ... until T1 commits
        assert not failed and t2_done.is_set()
        stored = _latest(engine, "IRN--PAK")
        assert str(stored.as_of) == "2024-01-18" and stored.features["other_fronts_30d"] == 1
        assert stored.reason == "contagion"  # redone by T2, which found it as of 18 Jan
    finally:
        engine.dispose()


def _until_a_writer_waits_on_an_advisory_lock(engine, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND wait_event_type = 'Lock' AND wait_event = 'advisory'")).scalar_one():
                return
        time.sleep(0.05)
    raise AssertionError("the second writer never waited on an advisory lock")


def _held(session: Session) -> dict[int, str]:
    """This transaction's members' locks: key -> mode."""
    return {key: mode for key, mode in session.execute(text(
        "SELECT objid::int, mode FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
        "AND classid = :cls AND objsubid = 2"), {"cls": locks.MEMBER_LOCKS})}


def test_members_are_locked_in_key_order_shared_or_exclusive_and_a_large_write_takes_one_lock(database_url):
    engine = make_engine(database_url)
    taken: list[int] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # one statement, its keys in order
        if "pg_advisory_xact_lock" in statement and not statement.startswith("EXPLAIN"):
            taken.extend(parameters["keys"])
            plan = conn.exec_driver_sql("EXPLAIN " + statement, parameters).scalars().all()
            assert plan[0].startswith("Function Scan") and not any("Sort" in line for line in plan)  # taken as read

    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        with Session(engine) as session, session.begin():
            locks.lock_members(session, exclusive=["PAK", "IRN"], shared=["IND", "IRN", "nsa:baluchistan-liberation-army"])
            assert taken == sorted(taken) and taken[0] == locks.ALL_MEMBERS and len(taken) == 5
            key = locks._member_key
            assert _held(session) == {locks.ALL_MEMBERS: "ShareLock", key("PAK"): "ExclusiveLock",
                                      key("IRN"): "ExclusiveLock", key("IND"): "ShareLock",
                                      key("nsa:baluchistan-liberation-army"): "ShareLock"}
        taken.clear()
        many = [f"nsa:group-{k}" for k in range(locks.MANY_MEMBERS + 1)]
        with Session(engine) as session, session.begin():
            locks.lock_members(session, exclusive=[], shared=many)
            assert taken == [locks.ALL_MEMBERS] and _held(session) == {locks.ALL_MEMBERS: "ExclusiveLock"}
    finally:
        engine.dispose()
