"""Review findings: bounded time on hostile text, no 500s on odd dates or lone surrogates, answers postable."""

import time
from datetime import date

import pytest

from app.extract import dates
from app.extract.service import extract

PUBLISHED = date(2024, 1, 18)


def _extract(client, text: str, published_on: str = "2024-01-18"):
    return client.post("/v1/extract", json={"text": text, "published_on": published_on})


def test_a_run_of_commas_does_not_backtrack():
    started = time.perf_counter()
    extract("1," * 50000, PUBLISHED)
    assert time.perf_counter() - started < 2.0


def test_numbers_still_read():
    big = extract("Iran struck Pakistan on Tuesday. 1,000,000 people were killed.", PUBLISHED).events
    assert [e.fatalities for e in big] == [1_000_000]
    nine = extract("Iran struck Pakistan on Tuesday, killing at least nine people.", PUBLISHED).events
    assert [e.fatalities for e in nine] == [9]
    listed = extract("Iran struck Pakistan on Tuesday, killing 12, including children.", PUBLISHED).events
    assert [e.fatalities for e in listed] == [12]


LONG = ["Iran " * 19990 + "struck", "Monday " * 14000 + " Iran struck Iraq", "Iran struck " * 8300, "strike " * 14000,
        ". A" * 33000, "Iran struck Pakistan on Tuesday; " * 3000, "Iran struck Pakistan on Tuesday. " * 3000,
        "killed nine " * 8300, "Foo group " * 10000, "1," * 50000]


@pytest.mark.parametrize("text", LONG, ids=range(len(LONG)))
def test_long_hostile_reports_return_fast(text):
    started = time.perf_counter()
    extract(text, PUBLISHED)
    assert time.perf_counter() - started < 2.0


def test_a_sentence_too_long_is_listed_not_read():
    result = extract("Iran struck " * 8300, PUBLISHED)
    assert result.events == []
    assert any("sentence too long to read" in u.reason and len(u.sentence) <= 200 for u in result.unresolved)


def test_too_many_events_are_listed_not_read():
    result = extract("Iran struck Pakistan on Tuesday. " * 3000, PUBLISHED)
    assert any("too many events in one report" in u.reason for u in result.unresolved)


@pytest.mark.parametrize("text,published_on", [
    ("Iran struck Pakistan on February 29.", date(2024, 2, 28)),
    ("Iran struck Pakistan on 29 Feb.", date(2024, 1, 10)),
    ("Iran struck Pakistan yesterday.", date(1, 1, 1)),
    ("Iran struck Pakistan on Sunday.", date(1, 1, 1)),
    ("Iran struck Pakistan on December 30.", date(1, 1, 2)),
])
def test_impossible_dates_are_none_not_errors(text, published_on):
    dates.find(text, published_on)
    extract(text, published_on)


@pytest.mark.parametrize("published_on", ["0001-01-01", "1799-12-31"])
def test_published_on_before_1800_is_422(client, published_on):
    answer = _extract(client, "Iran struck Pakistan yesterday.", published_on)
    assert answer.status_code == 422 and answer.json()["field"] == "published_on"
    assert "is before 1800" in answer.json()["detail"]
    assert _extract(client, "Iran struck Pakistan on 29 Feb.", "2024-01-10").status_code == 200


def test_a_lone_surrogate_is_422(client):
    body = b'{"text": "Iran struck Pakistan \\ud800 on Tuesday.", "published_on": "2024-01-18"}'
    answer = client.post("/v1/extract", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422 and "binary" in answer.json()["detail"]


@pytest.mark.parametrize("text", [
    "Pakistan struck Iran on Tuesday in response to Iranian strikes inside Pakistan on Tuesday.",
    "Azerbaijan struck Armenia on Tuesday in retaliation. Earlier on Tuesday, Armenia shelled Azerbaijan.",
    "Pakistan struck Iran on Tuesday in response to Iranian strikes inside Pakistan on Wednesday.",
    "Iran struck Pakistan on Tuesday, killing 99999999999 people. On Thursday Pakistan struck Iran in retaliation.",
])
def test_answers_name_earlier_drafts_and_post_as_they_are(client, text):
    answer = _extract(client, text)
    assert answer.status_code == 200
    events = answer.json()["events"]
    for n, e in enumerate(events):
        if e.get("responds_to"):
            earlier = {x["source_event_id"]: x for x in events[:n]}
            assert e["responds_to"] in earlier
            assert earlier[e["responds_to"]]["occurred_on"] <= e["occurred_on"]
    posted = client.post("/v1/events/batch", json={"items": events})
    assert posted.status_code == 200, posted.json()


def test_over_a_state_is_where_it_happened():
    events = extract("India shot down a Pakistani drone over India on Tuesday", PUBLISHED).events
    assert [(e.actor1.country, e.location.country) for e in events] == [("IND", "IND")]
