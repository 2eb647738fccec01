"""Input that used to be stored wrongly without an error: loose dates, offsets, coerced numbers and booleans."""

import pytest

from tests.factories import event


def _stored(client) -> int:
    return len(client.get("/v1/events", params={"include_retracted": True, "limit": 1000}).json()["items"])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"occurred_on": "20240101"}, "occurred_on"),  # basic format: was read as a Unix time, 1970-08-23
        ({"occurred_on": 1700000000}, "occurred_on"),  # a Unix time: was 2023-11-14
        ({"occurred_on": "1700000000"}, "occurred_on"),
        ({"occurred_on": "2024-01-16T00:00"}, "occurred_on"),  # a datetime needs its offset (or Z)
        ({"occurred_on": "16/01/2024"}, "occurred_on"),
        ({"occurred_on": "1800-01-01T00:30:00+01:00"}, "occurred_on"),  # 1799-12-31 in UTC: before the floor
        ({"fatalities": True}, "fatalities"),
        ({"fatalities": "3"}, "fatalities"),
        ({"fatalities": 3.5}, "fatalities"),
        ({"fatalities": 2.0**60}, "fatalities"),  # integral, but past 2**53 a float may not be the number sent
        ({"civilian_fatalities": False}, "civilian_fatalities"),
        ({"injured": "1"}, "injured"),
        ({"retaliation": "yes"}, "retaliation"),
        ({"retaliation": 1}, "retaliation"),
        ({"location": {"country": "PAK", "latitude": True}}, "location.latitude"),
        ({"location": {"country": "PAK", "longitude": "61.5"}}, "location.longitude"),
    ],
)
def test_loose_types_are_refused(client, changes, field):
    r = client.post("/v1/events", json=event(**changes))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert _stored(client) == 0


@pytest.mark.parametrize(
    ("sent", "day", "at"),
    [
        ("2024-01-16T00:00:00+05:00", "2024-01-15", "2024-01-15T19:00:00Z"),  # was dated 01-16 with no time
        ("2024-01-16T00:00:01+05:00", "2024-01-15", "2024-01-15T19:00:01Z"),
        ("2024-01-16T23:30:00-02:00", "2024-01-17", "2024-01-17T01:30:00Z"),
        ("2024-01-16T12:00:00Z", "2024-01-16", "2024-01-16T12:00:00Z"),
        ("2024-01-16", "2024-01-16", None),
    ],
)
def test_a_datetime_is_kept_in_utc_and_dated_by_its_utc_day(client, sent, day, at):
    r = client.post("/v1/events", json=event(occurred_on=sent))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["occurred_on"] == day
    assert (body["occurred_at"] and body["occurred_at"].replace("+00:00", "Z")) == at


@pytest.mark.parametrize("link", [True, "1", 1.5, 1.0 + 2.0**60])
def test_responds_to_must_be_an_integer_id(client, link):
    assert client.post("/v1/events", json=event()).json()["id"] == 1
    r = client.post("/v1/events", json=event(source_event_id="answer", responds_to=link))
    assert r.status_code == 422 and r.json()["field"] == "responds_to"  # `true` used to link event 1


def test_integral_numbers_are_integers_as_json_schema_says(client):
    """`3.0` is an integer to JSON Schema (and what a data frame sends for a column with a missing value)."""
    first = client.post("/v1/events", json=event(fatalities=3.0, civilian_fatalities=0.0, injured=12.0))
    assert first.status_code == 201, first.text
    assert (first.json()["fatalities"], first.json()["civilian_fatalities"], first.json()["injured"]) == (3, 0, 12)
    answer = client.post("/v1/events", json=event(source_event_id="answer", responds_to=float(first.json()["id"])))
    assert answer.status_code == 201 and answer.json()["responds_to"] == first.json()["id"], answer.text


def test_exact_types_are_still_accepted(client):
    body = event(fatalities=3, civilian_fatalities=0, injured=0, retaliation=True, responds_to=None,
                 location={"country": "PAK", "latitude": 27, "longitude": 61.5})
    r = client.post("/v1/events", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["location"]["latitude"] == 27.0 and r.json()["fatalities"] == 3
