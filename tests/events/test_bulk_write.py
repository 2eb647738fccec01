"""The bulk write path (COPY and staging tables on PostgreSQL, executemany on SQLite) keeps the one-by-one
semantics: text arrives byte for byte, and a batch is applied as if its items were posted in order."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.storage import bulk
from app.database import make_engine, make_sessionmaker
from app.events.models import Dyad
from tests.factories import IRAN_STRIKE, event, many

# Everything COPY's text format escapes or ends on, and text beyond ASCII; NUL is refused at the door.
AWKWARD = [
    'quote " and \' apostrophe',
    "tab\there, newline\nthere, carriage return\r too",
    "back\\slash, \\N and \\. and a lone \\",
    "\\.",  # the line COPY once read as end-of-data
    "comma, semicolon; pipe | and {braces} [brackets]",
    "Ünïcödé — 中文 — العربية — emoji 🚀 — combining é",
]


def _awkward_items() -> list[dict]:
    items = []
    for n, text in enumerate(AWKWARD):
        items.append(event(source_event_id=f"awkward-{n}-{text}", notes=text,
                           actor1={"name": f"Iran {text}", "country": "IRN", "kind": "state"},
                           actor2={"name": "Jaish al-Adl", "kind": "non_state"},
                           location={"country": "PAK", "admin1": text}))
    return items


def test_awkward_text_round_trips_through_the_bulk_write(client):
    items = _awkward_items()
    body = client.post("/v1/events/batch", json={"items": items}).json()
    assert [i["status"] for i in body["items"]] == ["created"] * len(items)
    for item, result in zip(items, body["items"]):
        stored = client.get(f"/v1/events/{result['id']}").json()
        assert stored["source_event_id"] == item["source_event_id"]
        assert (stored["notes"], stored["actor1"]["name"], stored["location"]["admin1"]) == (
            item["notes"], item["actor1"]["name"], item["location"]["admin1"])
        payload = client.get(f"/v1/events/{result['id']}/revisions").json()[0]["payload"]
        assert (payload["notes"], payload["actor1"]["name"]) == (item["notes"], item["actor1"]["name"])
    # The stored content hashes match a re-send, so nothing is revised.
    again = client.post("/v1/events/batch", json={"items": items}).json()
    assert [i["status"] for i in again["items"]] == ["unchanged"] * len(items)
    # A revision that puts awkward text into an existing event goes through the bulk UPDATE.
    revised = [event(item, notes=item["notes"] + "\t(corrected)\nend") for item in items]
    body = client.post("/v1/events/batch", json={"items": revised}).json()
    assert [i["status"] for i in body["items"]] == ["revised"] * len(items)
    for item, result in zip(revised, body["items"]):
        assert client.get(f"/v1/events/{result['id']}").json()["notes"] == item["notes"]
        revisions = client.get(f"/v1/events/{result['id']}/revisions").json()
        assert [(r["revision"], r["payload"]["notes"]) for r in revisions][-1] == (2, item["notes"])


def _mixed(source: str) -> tuple[list[dict], list[dict]]:
    """Events stored first, and a batch that mixes new, unchanged and revised items, keys repeated in it."""
    stored = many(4, source=source)
    a, b = many(6, source=source)[4:]
    moved = event(stored[3], actor2={"name": "Afghanistan", "country": "AFG", "kind": "state"},
                  location={"country": "AFG"}, occurred_on="2009-06-01")  # another dyad, back-dated
    batch = [
        a,                                          # new
        stored[0],                                  # unchanged
        event(stored[1], fatalities=40),            # revised
        a,                                          # a repeat of a new item: unchanged
        event(a, fatalities=11),                    # the new item revised in the same batch
        event(a, fatalities=12, notes="twice"),     # ... and again
        event(stored[1], fatalities=41),            # a stored item revised twice
        moved,                                      # revised onto another dyad
        b,                                          # new
        event(stored[2]),                           # unchanged (an equal copy)
        event(a, fatalities=12, notes="twice"),     # unchanged: equal to its previous copy
    ]
    return stored, batch


def _state(client, event_id: int) -> tuple:
    e = client.get(f"/v1/events/{event_id}").json()
    revisions = [(r["revision"], r["change"], r["content_hash"])
                 for r in client.get(f"/v1/events/{event_id}/revisions").json()]
    facts = {k: e[k] for k in ("revision", "occurred_on", "fatalities", "notes", "actor2", "location")}
    return facts, [d["id"] for d in e["dyads"]], revisions


def test_a_mixed_batch_is_applied_as_if_its_items_were_posted_one_by_one(client):
    stored, batch = _mixed("one")
    client.post("/v1/events/batch", json={"items": stored})
    one_by_one = [client.post("/v1/events", json=item).json() for item in batch]

    stored, batch = _mixed("batch")
    client.post("/v1/events/batch", json={"items": stored})
    body = client.post("/v1/events/batch", json={"items": batch}).json()

    statuses = [i["status"] for i in body["items"]]
    assert statuses == [r["status"] for r in one_by_one]
    assert statuses == ["created", "unchanged", "revised", "unchanged", "revised", "revised", "revised",
                        "revised", "created", "unchanged", "unchanged"]
    assert (body["created"], body["revised"], body["unchanged"]) == (2, 5, 4)
    # The same event for every copy of a key, and each ends in the state the one-by-one posts left.
    seen: dict[str, int] = {}
    for item, single, result in zip(batch, one_by_one, body["items"]):
        assert seen.setdefault(item["source_event_id"], result["id"]) == result["id"]
        mine, theirs = _state(client, result["id"]), _state(client, single["id"])
        assert mine[0] == theirs[0] and mine[1] == theirs[1]
        assert [r[:2] for r in mine[2]] == [r[:2] for r in theirs[2]]
    # The moved event left ISR--LBN for AFG--ISR: both dyads were re-assessed, triggered by it.
    moved = body["items"][7]["id"]
    assert [d["id"] for d in client.get(f"/v1/events/{moved}").json()["dyads"]] == ["AFG--ISR"]
    feed = client.get("/v1/assessments", params={"limit": 1000}).json()["items"]
    assert {"AFG--ISR", "ISR--LBN"} <= {a["dyad_id"] for a in feed if a["trigger_event_id"] == moved}


def test_a_retracted_event_revised_in_a_batch_stays_out_of_history(client):
    created = client.post("/v1/events", json=IRAN_STRIKE).json()
    client.delete(f"/v1/events/{created['id']}")
    before = len(client.get("/v1/assessments", params={"limit": 1000}).json()["items"])
    body = client.post("/v1/events/batch", json={"items": [event(fatalities=5), event(fatalities=6)]}).json()
    assert [i["status"] for i in body["items"]] == ["revised", "revised"]
    assert client.get(f"/v1/events/{created['id']}").json()["revision"] == 4  # created, retracted, 2 revisions
    # Nothing changed in any dyad's history, so nothing was assessed.
    assert len(client.get("/v1/assessments", params={"limit": 1000}).json()["items"]) == before


def test_a_connection_lost_during_copy_is_a_database_error_not_a_crash(database_url):
    """COPY runs on psycopg directly; its errors must still reach the API as SQLAlchemy's, which the
    handlers answer with 503 `database_unavailable` (a client retries) instead of a 500."""
    engine = make_engine(database_url)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        pytest.skip("COPY is the PostgreSQL path")
    try:
        with make_sessionmaker(engine, writer=True)() as session:
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            row = {"id": "IRN-PAK-copy", "member_a": "IRN", "member_b": "PAK", "kind": "state_state",
                   "created_at": datetime.now(timezone.utc)}
            with pytest.raises(OperationalError):
                bulk.insert_rows(session, Dyad, [row])
    finally:
        engine.dispose()


def test_a_naive_datetime_is_refused_by_the_copy_path_as_by_sqlalchemy(database_url):
    """The UTC columns store UTC only: COPY, which bypasses SQLAlchemy's column type, refuses a naive datetime
    as that type does on SQLite."""
    engine = make_engine(database_url)
    rows = [{"id": f"IRN-PAK-{n}", "member_a": "IRN", "member_b": "PAK", "kind": "state_state",
             "created_at": datetime(2024, 1, 18, 4, 5) if n == 2 else datetime.now(timezone.utc)} for n in range(3)]
    try:
        with make_sessionmaker(engine, writer=True)() as session:
            with pytest.raises(Exception, match="naive datetime"):
                bulk.insert_rows(session, Dyad, rows)
    finally:
        engine.dispose()
