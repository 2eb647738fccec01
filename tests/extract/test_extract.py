"""POST /v1/extract: the seed report's drafts field by field, stable ids, nothing stored, bad input refused."""

import time

import pytest
from sqlalchemy import func, select

from app.auth import service as auth_service
from app.config import REPO_ROOT
from app.events.models import Event

# The project's seed report, in shared/ beside the repository (as CI lays it out too).
SEED = REPO_ROOT.parent / "shared" / "seed" / "2024-01-pakistan-iran-strikes.txt"


def _seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


def _extract(client, text: str, published_on: str = "2024-01-18", **extra):
    return client.post("/v1/extract", json={"text": text, "published_on": published_on, **extra})


def _stored(client) -> int:
    with client.app.state.sessionmaker() as session:
        return session.scalar(select(func.count()).select_from(Event))


def _by(events, actor1: str, location: str) -> dict:
    found = [e for e in events if e["actor1"]["country"] == actor1 and e["location"]["country"] == location]
    assert len(found) == 1, (actor1, location, events)
    return found[0]


def test_seed_report_gives_the_four_strikes_field_by_field(client):
    answer = _extract(client, _seed_text())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    events = body["events"]
    assert len(events) == 4

    iran = _by(events, "IRN", "PAK")
    assert iran["occurred_on"] == "2024-01-16"  # "Tuesday" against Thursday 18 January
    assert iran["action"] == "attack"
    assert iran["actor2"] == {"name": "Jaish al-Adl", "kind": "non_state"}  # the group; the host is the location
    assert iran["fatalities"] == 2 and iran["civilian_fatalities"] == 2  # "killed two children"
    assert iran["retaliation"] is False

    pakistan = _by(events, "PAK", "IRN")
    assert pakistan["occurred_on"] == "2024-01-18"
    assert pakistan["location"]["admin1"] == "Sīstān va Balūchestān"  # ISO 3166-2, from pycountry
    assert pakistan["actor2"]["kind"] == "non_state"
    assert pakistan["fatalities"] == 9  # "at least nine"
    assert pakistan["civilian_fatalities"] == 7  # three women and four children
    assert pakistan["weapons"] == ["drone", "loitering_munition", "rocket", "standoff_weapon"]
    assert pakistan["retaliation"] is True and pakistan["responds_to"] == iran["source_event_id"]

    iraq, syria = _by(events, "IRN", "IRQ"), _by(events, "IRN", "SYR")
    assert iraq["occurred_on"] == syria["occurred_on"] == "2024-01-15"  # "on Monday"
    assert iraq["location"]["admin1"] == "Iqlīm Kūrdistān"
    assert "missile" in iraq["weapons"] and "missile" in syria["weapons"]

    # Oldest first, so that an answer follows the act it answers in a batch.
    assert [e["occurred_on"] for e in events] == sorted(e["occurred_on"] for e in events)
    # Each field with the text it came from.
    evidence = {e["source_event_id"]: e for e in body["evidence"]}
    fields = evidence[pakistan["source_event_id"]]["fields"]
    text = _seed_text()
    for name in ("occurred_on", "actor1", "location.country", "fatalities", "civilian_fatalities", "retaliation"):
        span = fields[name]
        assert text[span["start"]:span["end"]] == span["text"] and 0 < span["confidence"] <= 1
    assert fields["occurred_on"]["text"] == "Thursday"
    assert "nine" in fields["fatalities"]["text"]
    # Sentences that look like events but are not resolved, with why: the US strikes in Yemen have no date.
    reasons = {u["reason"] for u in body["unresolved"]}
    assert any("Yemen" in u["sentence"] and u["reason"] == "no date for this act" for u in body["unresolved"])
    assert reasons


def test_drafts_post_as_they_are_and_twice_is_unchanged(client):
    before = _stored(client)
    first = _extract(client, _seed_text()).json()["events"]
    second = _extract(client, _seed_text()).json()["events"]
    assert _stored(client) == before == 0  # extracting stores nothing
    assert [e["source_event_id"] for e in first] == [e["source_event_id"] for e in second]
    created = client.post("/v1/events/batch", json={"items": first})
    assert created.status_code == 200, created.text
    assert created.json()["created"] == 4
    again = client.post("/v1/events/batch", json={"items": second})
    assert again.json()["unchanged"] == 4 and again.json()["created"] == 0
    assert _stored(client) == 4


def test_extract_needs_the_read_scope(client):
    with client.app.state.write_sessionmaker.begin() as session:
        reader = auth_service.create(session, "reader", ["read"])[1]
        ingester = auth_service.create(session, "ingester", ["ingest"])[1]
    client.app.state.keyring.load()
    body = {"text": _seed_text(), "published_on": "2024-01-18"}
    assert client.post("/v1/extract", json=body).status_code == 401
    assert client.post("/v1/extract", json=body, headers={"X-API-Key": ingester}).status_code == 403
    assert client.post("/v1/extract", json=body, headers={"X-API-Key": reader}).status_code == 200


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text_is_422(client, text):
    answer = _extract(client, text)
    assert answer.status_code == 422
    assert answer.json()["error"] == "validation_error" and answer.json()["field"] == "text"


def test_text_over_the_limit_is_413(client):
    answer = _extract(client, "Iran struck Pakistan on Tuesday. " * 4000)  # 132,000 characters
    assert answer.status_code == 413 and answer.json()["error"] == "payload_too_large"
    assert answer.json()["field"] == "text"


def test_a_megabyte_is_refused_fast(client):
    started = time.perf_counter()
    answer = _extract(client, "x" * 1_048_576)
    assert answer.status_code == 413 and answer.json()["error"] == "payload_too_large"
    assert time.perf_counter() - started < 2


def test_binary_text_is_422(client):
    answer = _extract(client, "PK\x03\x04\x14\x00\x06\x00" + "\x01\x02\x03\x04" * 50)
    assert answer.status_code == 422 and "binary" in answer.json()["detail"]


def test_non_utf8_body_is_400(client):
    body = b'{"text": "Iran struck \xff\xfe Pakistan", "published_on": "2024-01-18"}'
    answer = client.post("/v1/extract", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"] == "malformed_json"


def test_not_json_is_415(client):
    answer = client.post("/v1/extract", content=b"Iran struck Pakistan", headers={"Content-Type": "text/plain"})
    assert answer.status_code == 415 and answer.json()["error"] == "unsupported_media_type"


def test_published_on_must_be_a_past_date(client):
    assert _extract(client, "Iran struck Pakistan.", published_on="18/01/2024").status_code == 422
    future = _extract(client, "Iran struck Pakistan.", published_on="2999-01-01")
    assert future.status_code == 422 and future.json()["field"] == "published_on"


def test_a_text_with_no_event_is_200_with_the_reason(client):
    answer = _extract(client, "The weather in Islamabad was mild this week. Markets were calm.")
    assert answer.status_code == 200
    body = answer.json()
    assert body["events"] == [] and len(body["unresolved"]) == 1
    assert "no sentence describes an act of force" in body["unresolved"][0]["reason"]


def test_source_and_url_are_carried(client):
    body = _extract(client, _seed_text(), source="wapo", url="https://example.org/report").json()
    assert {e["source"] for e in body["events"]} == {"wapo"}
    assert all(e["notes"].startswith("drafted from https://example.org/report") for e in body["events"])
    assert _extract(client, "x", source="not a source").status_code == 422


def test_openapi_documents_the_route_and_its_errors(client):
    operation = client.get("/openapi.json").json()["paths"]["/v1/extract"]["post"]
    assert operation["operationId"] == "extract_events"
    assert {"200", "400", "401", "403", "413", "415", "422"} <= set(operation["responses"])
