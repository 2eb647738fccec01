"""Inputs that were accepted but meant nothing (issue 23): each is now refused with a machine-readable 4xx, and
nothing is written."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION, event


def _nothing_stored(client) -> None:
    assert client.get("/v1/events").json()["items"] == []
    assert client.get("/v1/assessments").json()["items"] == []


@pytest.mark.parametrize("vocabulary, field", [
    ({"action": "talks", "cameo_code": "190"}, "cameo_code"),
    ({"action": "talks", "event_type": "Battles", "sub_event_type": "Armed clash"}, "sub_event_type"),
])
def test_two_vocabularies_that_disagree_are_a_422_naming_both(client, vocabulary, field):
    body = {k: v for k, v in event().items() if k != "action"} | vocabulary
    r = client.post("/v1/events", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"].endswith(field) and "talks" in r.json()["detail"]
    _nothing_stored(client)
    agreeing = {k: v for k, v in event().items() if k != "action"} | {"action": "attack", "cameo_code": "190"}
    assert client.post("/v1/events", json=agreeing).status_code == 201


def test_a_datetime_ahead_of_the_clock_is_a_future_event(client):
    ahead = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = client.post("/v1/events", json=event(occurred_on=ahead))
    assert r.status_code == 422 and r.json()["field"] == "occurred_on" and "future" in r.json()["detail"]
    _nothing_stored(client)
    skewed = (datetime.now(UTC) + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert client.post("/v1/events", json=event(occurred_on=skewed)).status_code == 201  # within the 5 minutes


@pytest.mark.parametrize("as_of", ["0001-01-01", "1799-12-31", "9999-12-31"])
def test_as_of_outside_1800_to_today_is_a_422(client, as_of):
    r = client.get("/v1/risk", params={"a": "IRN", "b": "PAK", "as_of": as_of})
    assert r.status_code == 422 and r.json()["field"] == "as_of"
    w = client.post("/v1/risk/what-if", json={"a": "IRN", "b": "PAK", "as_of": as_of, "events": [IRAN_STRIKE]})
    assert w.status_code == 422 and w.json()["field"].endswith("as_of")


def test_the_edges_of_the_as_of_range_are_answered(client):
    today = datetime.now(UTC).date().isoformat()
    for as_of in ("1800-01-01", today):
        assert client.get("/v1/risk", params={"a": "IRN", "b": "PAK", "as_of": as_of}).status_code == 200


def test_a_date_with_a_trailing_newline_is_no_date(client):
    r = client.post("/v1/events", json=event(occurred_on="2024-01-16\n"))
    assert r.status_code == 422 and r.json()["field"] == "occurred_on"
    assert client.post("/v1/events", json=event(occurred_on="٢٠٢٤-٠١-١٦")).status_code == 422  # Arabic-Indic digits
    _nothing_stored(client)


def test_a_key_twice_in_one_object_is_a_422(client):
    text = json.dumps(event()).replace('"fatalities": 2', '"fatalities": 1, "fatalities": 500')
    assert '"fatalities": 500' in text
    r = client.post("/v1/events", content=text, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"] == "duplicate_key" and "fatalities" in r.json()["detail"]
    _nothing_stored(client)


@pytest.mark.parametrize("name", ["\u200b\u200b", "\u0301\u0301", "\u200d \u2060"])
def test_an_invisible_actor_name_is_a_422(client, name):
    r = client.post("/v1/events", json=event(actor2={"name": name, "kind": "non_state"}))
    assert r.status_code == 422 and r.json()["field"] == "actor2.name"
    _nothing_stored(client)


def test_a_utf16_body_is_a_415(client):
    r = client.post("/v1/events", content=json.dumps(event()).encode("utf-16"),
                    headers={"content-type": "application/json"})
    assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type"
    _nothing_stored(client)


@pytest.mark.parametrize("body, why", [
    (b'{"source_event_id": ', "Expecting value"),  # truncated
    (b'{"fatalities": ' + b"9" * 5000 + b"}", "4300 digits"),  # an integer too long to read
    (b"[" * 10_000 + b"]" * 10_000, "nested too deeply"),
    (b'{"notes": "\xff\xfe\xfd"}', "invalid UTF-8"),
])
def test_every_body_that_is_not_json_is_malformed_json_and_says_why(client, body, why):
    r = client.post("/v1/events", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "malformed_json", r.text
    assert why in r.json()["detail"]


def test_a_feed_or_stream_cursor_beyond_the_head_is_a_409_with_the_head(client):
    client.post("/v1/events", json=IRAN_STRIKE)
    head = client.get("/v1/assessments").json()["next_cursor"]
    r = client.get("/v1/assessments", params={"after": "999999"})
    assert r.status_code == 409 and r.json()["error"] == "cursor_ahead" and r.json()["head"] == head
    assert client.get("/v1/assessments", params={"after": head}).json()["items"] == []  # the head itself: empty
    s = client.get("/v1/stream", params={"after": "999999"})
    assert s.status_code == 409 and s.json()["head"] == head


def _answer(**changes) -> dict:
    return event(PAKISTAN_RETALIATION, **changes)


def test_an_answer_shares_a_member_with_what_it_answers(client):
    first = client.post("/v1/events", json=IRAN_STRIKE).json()
    unrelated = _answer(source_event_id="ind-chn", actor1={"name": "India", "country": "IND", "kind": "state"},
                        actor2={"name": "China", "country": "CHN", "kind": "state"}, location={"country": "IND"},
                        responds_to=IRAN_STRIKE["source_event_id"])
    r = client.post("/v1/events", json=unrelated)
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "unrelated"
    by_id = client.post("/v1/events", json=unrelated | {"responds_to": first["id"]})
    assert by_id.status_code == 422 and by_id.json()["errors"][0]["type"] == "unrelated"
    # the seed: Pakistan's strike in Iran answers Iran's strike in Pakistan (their territories are members)
    ok = client.post("/v1/events", json=_answer(responds_to=IRAN_STRIKE["source_event_id"]))
    assert ok.status_code == 201 and ok.json()["responds_to"] == first["id"]


def test_an_answer_is_not_dated_before_what_it_answers(client):
    client.post("/v1/events", json=IRAN_STRIKE)
    r = client.post("/v1/events", json=_answer(occurred_on="2023-01-01", responds_to=IRAN_STRIKE["source_event_id"]))
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "answers_later_event"


def test_an_answer_by_id_is_in_the_same_source_as_by_key(client):
    other = client.post("/v1/events", json=event(source="other-desk")).json()
    r = client.post("/v1/events", json=_answer(responds_to=other["id"]))  # source "seed" answering "other-desk"
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "other_source"


def test_the_checks_hold_inside_a_batch_too(client):
    r = client.post("/v1/events/batch", json=[IRAN_STRIKE, _answer(occurred_on="2024-01-10",
                                                                   responds_to=IRAN_STRIKE["source_event_id"])])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "items.1.responds_to"
    _nothing_stored(client)


def test_an_answer_is_checked_against_the_version_earlier_in_its_batch_by_id_as_by_key(client):
    first = client.post("/v1/events", json=IRAN_STRIKE).json()
    moved = event(occurred_on="2024-01-20")  # the answered event revised, in the same batch, to after its answer
    for ref in (first["id"], IRAN_STRIKE["source_event_id"]):
        r = client.post("/v1/events/batch", json=[moved, _answer(responds_to=ref)])
        assert r.status_code == 422 and r.json()["errors"][0]["type"] == "answers_later_event", ref
    assert client.get(f"/v1/events/{first['id']}").json()["revision"] == 1  # nothing written
