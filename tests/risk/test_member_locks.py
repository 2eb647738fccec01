"""Two writers on dyads of one member at once (PostgreSQL, where writers overlap): the stored answer reads the
other's front (app.storage.locks.lock_members). SQLite has one writer at a time and needs no such lock."""

import threading
import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.database import make_engine
from app.events.schemas import EventCreate
from app.risk import flow
from app.risk.models import Assessment, DyadRisk
from tests.conftest import PG_URL
from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION, event
from tests.risk.test_contagion import IRAQ

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
            time.sleep(0.5)
            assert not t2_done.is_set()  # T2 waits for T1: for Iran's lock (without it, for the feed's, too late) ...
        writer.join(30)  # ... until T1 commits
        assert not failed and t2_done.is_set()
        stored = _latest(engine, "IRN--PAK")
        assert str(stored.as_of) == "2024-01-18" and stored.features["other_fronts_30d"] == 1
        assert stored.reason == "contagion"  # redone by T2, which found it as of 18 Jan
    finally:
        engine.dispose()
