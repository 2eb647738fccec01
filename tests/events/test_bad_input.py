"""Every bad input gets a 4xx in one error shape naming the field, and writes nothing."""

from collections.abc import Iterator
from copy import deepcopy
from enum import Enum
from typing import get_args

import pytest
from pydantic import BaseModel

from app.dependencies import get_settings
from app.events.schemas import EventCreate
from app.risk.schemas import WhatIfRequest
from tests.factories import IRAN_STRIKE, event, many


def _stored(client) -> int:
    return len(client.get("/v1/events", params={"include_retracted": True, "limit": 1000}).json()["items"])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"location": {"country": "XXZ"}}, "location.country"),
        ({"actor1": {"name": "Iran", "country": "IRQQ", "kind": "state"}}, "actor1.country"),
        ({"actor1": {"name": "Iran", "kind": "state"}}, "actor1.country"),
        ({"civilian_fatalities": 5, "fatalities": 2}, "civilian_fatalities"),
        ({"occurred_on": "2999-01-01"}, "occurred_on"),
        ({"action": "nuke_everything"}, "action"),
        ({"action": None, "event_type": "Battles", "sub_event_type": "Dance-off"}, "sub_event_type"),
        ({"action": None, "cameo_code": "999"}, "cameo_code"),
        ({"action": None}, "action"),
        ({"weapons": ["slingshot"]}, "weapons"),
        ({"fatalities": -1}, "fatalities"),
        ({"notes": "x" * 5000}, "notes"),
        ({"source_event_id": ""}, "source_event_id"),
        ({"responds_to": ""}, "responds_to"),
        ({"responds_to": "x" * 129}, "responds_to"),
        ({"unexpected": 1}, "unexpected"),
        ({"actor2": None}, "actor2"),
    ],
)
def test_invalid_event_is_rejected_with_the_field_named(client, changes, field):
    r = client.post("/v1/events", json=event(**changes))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "validation_error"
    assert body["field"] == field
    assert body["detail"] and body["errors"][0]["field"] == field
    assert _stored(client) == 0


def test_malformed_json_is_a_400(client):
    r = client.post("/v1/events", content=b'{"source_event_id": ', headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "malformed_json"


def test_wrong_content_type_is_a_415(client):
    r = client.post("/v1/events", content=b"source_event_id=1", headers={"content-type": "text/plain"})
    assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type"


def test_oversize_body_is_a_413(client, settings):
    limit = settings.max_body_bytes
    r = client.post("/v1/events", content=b"{" + b" " * limit + b"}", headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"


def test_oversize_batch_is_a_413_and_writes_nothing(client, settings):
    client.app.dependency_overrides[get_settings] = lambda: settings.model_copy(update={"max_batch_items": 10})
    r = client.post("/v1/events/batch", json={"items": many(11)})
    assert r.status_code == 413 and r.json()["field"] == "items"
    assert _stored(client) == 0


def test_one_bad_item_rejects_the_whole_batch_and_names_its_index(client):
    items = many(20)
    items[7]["civilian_fatalities"] = 999
    items[12]["location"] = {"country": "ZZZ"}
    r = client.post("/v1/events/batch", json={"items": items})
    assert r.status_code == 422
    fields = [e["field"] for e in r.json()["errors"]]
    assert fields == ["items.7.civilian_fatalities", "items.12.location.country"]
    assert _stored(client) == 0


def test_unknown_event_and_bad_cursor(client):
    assert client.get("/v1/events/12345").status_code == 404
    r = client.get("/v1/events", params={"cursor": "abc"})
    assert r.status_code == 422 and r.json()["field"] == "cursor"
    assert client.get("/v1/nope").json()["error"] == "not_found"


def test_datetime_occurred_on_is_kept_and_dated_by_its_utc_day(client):
    r = client.post("/v1/events", json=event(IRAN_STRIKE, occurred_on="2024-01-16T21:30:00+03:30"))
    assert r.status_code == 201
    assert r.json()["occurred_on"] == "2024-01-16" and r.json()["occurred_at"].startswith("2024-01-16T18:00")
    late = client.post("/v1/events", json=event(IRAN_STRIKE, source_event_id="tz", occurred_on="2024-01-16T23:30:00-05:00"))
    assert late.json()["occurred_on"] == "2024-01-17"


def test_out_of_range_datetime_is_a_422(client):
    r = client.post("/v1/events", json=event(occurred_on="9999-12-31T23:00:00-05:00"))
    assert r.status_code == 422 and r.json()["field"] == "occurred_on"


def test_unknown_responds_to_in_a_batch_names_the_item(client):
    items = many(3)
    items[1]["responds_to"] = 987654
    r = client.post("/v1/events/batch", json={"items": items})
    assert r.status_code == 422 and r.json()["field"] == "items.1.responds_to"
    assert _stored(client) == 0


def test_nul_characters_are_rejected_not_stored(client):
    r = client.post("/v1/events", json=event(notes="bad\x00byte"))
    assert r.status_code == 422 and r.json()["field"] == "notes"
    r = client.get("/v1/events", params={"dyad": "IRN\x00PAK"})
    assert r.status_code == 422 and r.json()["field"] == "query"
    assert _stored(client) == 0


def _text_fields(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """The dotted path of every field of the contract that can hold a string, nested models included."""
    for name, info in model.model_fields.items():
        kinds = [info.annotation]
        while kinds:
            kind = kinds.pop()
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                yield from _text_fields(kind, f"{prefix}{name}.")
            elif kind is str or isinstance(kind, type) and issubclass(kind, str) and not issubclass(kind, Enum):
                yield prefix + name
            else:
                kinds += get_args(kind)


def _with_nul(body: dict, path: str) -> dict:
    *parents, leaf = path.split(".")
    body = deepcopy(body)
    node = body
    for name in parents:
        node = node.setdefault(name, {})
    if leaf == "weapons":
        node[leaf] = ["drone\x00"]
    elif leaf == "responds_to":
        node[leaf] = "earlier\x00"
    else:
        node[leaf] = (node.get(leaf) or "IRN")[:3] + "\x00"
    return body


@pytest.mark.parametrize("path", sorted(set(_text_fields(EventCreate))))
def test_nul_in_any_text_field_of_an_event_is_that_fields_422(client, path):
    r = client.post("/v1/events/batch", json={"items": [event(), _with_nul(event(source_event_id="nul"), path)]})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == f"items.1.{path}"
    assert _stored(client) == 0


@pytest.mark.parametrize("path", ["a", "b"])
def test_nul_in_a_what_if_is_a_422(client, path):
    assert set(_text_fields(WhatIfRequest)) >= {"a", "b"}
    body = {"a": "PAK", "b": "IRN", "events": [event()]}
    r = client.post("/v1/risk/what-if", json=_with_nul(body, path))
    assert r.status_code == 422 and r.json()["field"] == path, r.text


def test_country_filters_take_iso3_codes_only(client):
    client.post("/v1/events", json=IRAN_STRIKE)
    for path in ("/v1/events", "/v1/dyads"):
        r = client.get(path, params={"country": "%%%"})
        assert r.status_code == 422 and r.json()["field"] == "country"
    assert [d["id"] for d in client.get("/v1/dyads", params={"country": "pak"}).json()["items"]] == ["IRN--PAK"]
