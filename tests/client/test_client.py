"""The Python client (client/, installed by `make setup`) against a real server process."""

import asyncio
from datetime import date
import threading
import time

import httpx
import pytest
from escalation_client import AsyncEscalationClient, EscalationClient, EscalationError

from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION, event, many
from tests.servers import ROOT, server

pytestmark = pytest.mark.slow


class Flaky(httpx.HTTPTransport):
    """A real transport that loses some answers: the request reaches the server, the response never arrives."""

    def __init__(self, lose: set[int]):
        super().__init__()
        self.lose, self.calls, self.statuses = lose, 0, []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        response = super().handle_request(request)
        if self.calls in self.lose:
            response.close()
            raise httpx.ReadError("connection lost", request=request)
        self.statuses.append(response.status_code)
        return response


def test_the_seed_scenario_through_the_client(database_url):
    with server(database_url) as base, EscalationClient(base) as client:
        stored = client.post_events([IRAN_STRIKE, PAKISTAN_RETALIATION])
        assert (stored.created, [i.status for i in stored.items]) == (2, ["created", "created"])
        after = client.risk("IRN", "PAK", as_of="2024-01-18")
        before = client.risk("PAK", "IRN", as_of="2024-01-16")
        assert after.dyad_id == "IRN--PAK" and after.event_count == 2 and after.probability > before.probability
        assert after.level in ("low", "elevated", "high", "critical") and after.drivers[0].label
        assert after.explanation is not None and after.explanation.unit == "log_odds"
        assert "IRN--PAK" in [d.id for d in client.dyads()]
        assert [d.id for d in client.dyads(country="IRN", page_size=1)] == [d.id for d in client.dyads(country="IRN")]
        page = client.assessments(after=0)
        assert [a.id for a in page.items] == sorted(a.id for a in page.items) and page.next_cursor == page.items[-1].cursor
        assert client.assessments(after=page.next_cursor).items == []
        with pytest.raises(EscalationError) as ahead:  # a cursor from another database: the head to start from
            client.assessments(after=int(page.next_cursor) + 1000)
        assert (ahead.value.status, ahead.value.error, ahead.value.head) == (409, "cursor_ahead", page.next_cursor)
        assert after.interval is not None and after.interval.low <= after.probability <= after.interval.high
        assert all(a.interval is not None for a in page.items)

        with pytest.raises(EscalationError) as missing:
            client.risk("IRN", "XXX")
        assert (missing.value.status, missing.value.error, missing.value.field) == (422, "validation_error", "b")
        with pytest.raises(EscalationError) as invalid:
            client.post_events([event(source_event_id=f"x{i}") for i in range(3)] + [event(fatalities=-1)],
                               batch_size=2)
        # the second batch failed: its problem is reported against the caller's own list
        assert (invalid.value.status, invalid.value.field) == (422, "items.3.fatalities")


def test_batches_split_at_the_servers_limit_and_lost_answers_are_retried_safely(database_url):
    events = many(12, source="client")
    with server(database_url, env={"ESCALATION_MAX_BATCH_ITEMS": "5"}) as base:
        # 5000, 2500, ... 9 are refused (10 calls of 413); batches of 4 fit: call 11 stores events 0-3, call
        # 12 stores 4-7 but its answer is lost, the retry finds them stored (unchanged), call 14 stores 8-11.
        flaky = Flaky(lose={12})
        with EscalationClient(base, transport=flaky) as client:
            result = client.post_events(events)
            assert [i.index for i in result.items] == list(range(12))
            assert [i.status for i in result.items] == ["created"] * 4 + ["unchanged"] * 4 + ["created"] * 4
            assert flaky.statuses == [413] * 10 + [200] * 3
            again = client.post_events(events)
            assert again.unchanged == 12
        total = httpx.get(f"{base}/v1/events", params={"limit": 100}).json()["items"]
        assert len(total) == 12


def test_watch_follows_the_feed_once_per_assessment_through_errors(database_url):
    with server(database_url) as base:
        flaky = Flaky(lose={2, 5, 6})
        with EscalationClient(base, transport=flaky, retries=0) as client:
            def post_after_idle_polls() -> None:
                # Post only once the watcher has revalidated an idle feed, however slow the machine is.
                deadline = time.monotonic() + 60
                while 304 not in flaky.statuses and time.monotonic() < deadline:
                    time.sleep(0.05)
                httpx.post(f"{base}/v1/events", json=IRAN_STRIKE)
                time.sleep(1)
                httpx.post(f"{base}/v1/events", json=PAKISTAN_RETALIATION)

            poster = threading.Thread(target=post_after_idle_polls)
            poster.start()
            seen = []
            for assessment in client.watch(poll_interval=0.2):
                seen.append(assessment.id)
                if len(seen) == 4:
                    break
            poster.join()
            assert 304 in flaky.statuses  # idle polls were revalidated with the ETag
            feed = client.assessments().items
            assert seen == [a.id for a in feed]
            assert [a.id for a in client.watch(after=seen[1], stop_when_idle=True)] == seen[2:]


def test_the_async_client(database_url):
    async def scenario(base: str) -> None:
        async with AsyncEscalationClient(base) as client:
            result = await client.post_events([IRAN_STRIKE, PAKISTAN_RETALIATION])
            assert result.created == 2
            risk = await client.risk("IRN", "PAK", as_of="2024-01-18")
            assert risk.event_count == 2
            watched = [a async for a in client.watch(stop_when_idle=True)]
            assert [a.id for a in watched] == [a.id for a in (await client.assessments()).items]
            assert [d.id for d in await client.dyads()]
            with pytest.raises(EscalationError) as refused:
                await client.risk("IRN", "IRN")
            assert refused.value.status == 422 and refused.value.field == "b"

    with server(database_url) as base:
        asyncio.run(scenario(base))


def test_what_if_when_the_service_offers_it(database_url):
    with server(database_url) as base, EscalationClient(base) as client:
        if "/v1/risk/what-if" not in httpx.get(f"{base}/openapi.json").json()["paths"]:
            pytest.skip("POST /v1/risk/what-if is not in this build (issue 12)")
        client.post_events([IRAN_STRIKE])
        stored = client.assessments().items
        hypothetical = client.what_if("IRN", "PAK", [PAKISTAN_RETALIATION], as_of="2024-01-18")
        assert hypothetical.dyad_id == "IRN--PAK" and hypothetical.event_count == 2
        assert client.assessments().items == stored  # nothing was stored


def test_risk_through_time_and_its_what_if(database_url):
    async def from_async(base: str) -> tuple:
        async with AsyncEscalationClient(base) as client:
            return (await client.series("IRN--PAK", start="2024-01-10", end="2024-02-10", step=5),
                    await client.what_if_series("IRN", "PAK", [again], start="2024-01-10", end="2024-02-10", step=5))

    again = event(IRAN_STRIKE, source_event_id="hypothetical", occurred_on="2024-01-25", fatalities=30)
    with server(database_url) as base, EscalationClient(base) as client:
        client.post_events([IRAN_STRIKE, PAKISTAN_RETALIATION])
        series = client.series("IRN--PAK", start="2024-01-10", end="2024-02-10", step=5)
        assert series.members == ("IRN", "PAK") and series.step_days == 5 and len(series.points) == 8
        point = series.points[2]
        risk = client.risk("IRN", "PAK", as_of=point.as_of)
        assert (point.probability, point.interval, point.level) == (risk.probability, risk.interval, risk.level)
        assert point.drivers[0].label == risk.drivers[0].label
        stored = client.assessments().items
        what_if = client.what_if_series("IRN", "PAK", [again], start="2024-01-10", end="2024-02-10", step=5)
        assert what_if.points[-1].probability > series.points[-1].probability
        assert client.assessments().items == stored  # nothing was stored
        assert asyncio.run(from_async(base)) == (series, what_if)
        with pytest.raises(EscalationError) as refused:
            client.series("IRN--PAK", start="2024-02-10", end="2024-01-10")
        assert refused.value.status == 422 and refused.value.field == "from"


def test_typed_events_and_dataframes(database_url):
    from escalation_client import Actor, Event, Location, assessments_frame, dyads_frame

    typed = Event(source="seed", source_event_id="2024-01-16-irn-pak", occurred_on=date(2024, 1, 16),
                  actor1=Actor("Iran (IRGC)", "state", "IRN"), actor2=Actor("Jaish al-Adl", "non_state"),
                  location=Location("PAK", admin1="Balochistan"), action="attack", weapons=["missile", "drone"],
                  fatalities=2, civilian_fatalities=2,
                  notes="Iranian strikes on militants inside Pakistan; two children killed.")
    assert typed.to_dict() == {**IRAN_STRIKE, "retaliation": False}  # the same event as the README's dict
    with server(database_url) as base, EscalationClient(base) as client:
        assert client.post_events([IRAN_STRIKE]).created == 1
        assert client.post_events([typed, PAKISTAN_RETALIATION]).unchanged == 1  # a typed re-send is recognised
        frame = client.series("IRN--PAK", start="2024-01-01", end="2024-03-01", step=7).to_dataframe()
        assert list(frame.columns) == ["as_of", "probability", "low", "high", "level", "last_event_on",
                                       "event_count", "top_driver"]
        assert len(frame) == 10 and frame["as_of"].is_monotonic_increasing
        assert (frame["low"] <= frame["probability"]).all() and (frame["probability"] <= frame["high"]).all()
        page = client.assessments()
        assert len(page.to_dataframe()) == len(page.items) == len(assessments_frame(page.items))
        dyads = dyads_frame(client.dyads())
        assert set(dyads["id"]) == {"IRN--PAK", "IRN--nsa:jaish-al-adl", "PAK--nsa:baluchistan-liberation-army"}
        assert client.what_if("IRN", "PAK", [typed], as_of="2024-01-18").event_count == 2


def test_the_readme_ten_lines_run(database_url, capsys):
    readme = (ROOT / "client" / "README.md").read_text()
    code = readme.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(code.strip().splitlines()) <= 10
    with server(database_url) as base:
        exec(code.replace("http://127.0.0.1:8000", base)  # noqa: S102 (our own README)
             .replace("client.watch(after=0)", "client.watch(after=0, stop_when_idle=True)"), {})
    out = capsys.readouterr().out
    assert "status='created'" in out and "dyad_id='IRN--PAK'" in out and "IRN--PAK 2024-01-18" in out


def test_watch_from_now_and_an_exception_for_each_kind_of_failure(database_url):
    """Issue 25: `watch(after="now")` starts at the feed's head; a timeout, an unreachable service and each kind
    of refusal are distinct exceptions, all EscalationError."""
    import socket

    from escalation_client import (Conflict, InvalidRequest, NotFound, Timeout, Unauthorized, Unreachable)

    with server(database_url) as base, EscalationClient(base) as client:
        client.post_events([IRAN_STRIKE])
        later: list[int] = []
        seen = threading.Event()

        def write_later():  # until the watch has one: a write before it read the head is not what it waits for
            for k in range(60):
                time.sleep(1.0)
                if seen.is_set():
                    return
                later.extend(i.id for i in client.post_events([event(PAKISTAN_RETALIATION,
                                                                     source_event_id=f"later-{k}")]).items)

        writer = threading.Thread(target=write_later, daemon=True)
        writer.start()
        try:
            fresh = next(iter(client.watch(after="now", poll_interval=0.2)))
        finally:
            seen.set()
        writer.join()
        assert fresh.trigger_event_id in later  # not the first event's assessment: the feed was read from its head

        for call, kind, status in ((lambda: client.risk("IRN", "XXX"), InvalidRequest, 422),
                                   (lambda: client.assessments(after=10**17), Conflict, 409)):
            with pytest.raises(kind) as refused:
                call()
            assert isinstance(refused.value, EscalationError) and refused.value.status == status
        with pytest.raises(NotFound):
            client._send("GET", "/v1/dyads/IRN--SWE")
    with server(database_url, env={"ESCALATION_BOOTSTRAP_API_KEY": "k" * 40}) as base:
        with EscalationClient(base) as anonymous, pytest.raises(Unauthorized):
            anonymous.post_events([IRAN_STRIKE])

    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        with EscalationClient(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.3, retries=1) as client:
            with pytest.raises(Timeout) as waited:
                client.risk("IRN", "PAK")
    assert waited.value.error == "timeout" and waited.value.status is None
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    with EscalationClient(f"http://127.0.0.1:{port}", retries=1) as client, pytest.raises(Unreachable) as refused:
        client.risk("IRN", "PAK")
    assert not isinstance(refused.value, Timeout) and refused.value.error == "unreachable"


def test_the_seed_is_the_same_in_both_readmes():
    """Issue 25: the client README's seed events differed from the main README's (no admin1), so running one after
    the other marked both `revised`. The README posts docs/seed.json; the documentation's walk posts them one by one."""
    import json

    from app.events.schemas import EventCreate

    client_code = (ROOT / "client" / "README.md").read_text().split("```python\n", 1)[1].split("with ", 1)[0]
    scope: dict = {}
    exec(client_code.replace("from escalation_client import EscalationClient", ""), scope)  # noqa: S102
    bodies = json.loads((ROOT / "docs" / "seed.json").read_text())["items"]  # what the README's six lines post
    walk = (ROOT / "docs" / "index.md").read_text().split("## A walk through the seed scenario", 1)[1]
    walked = [json.loads(part.split("'", 1)[0]) for part in walk.split("-d '")[1:3]]
    expected = [EventCreate(**scope[n]).model_dump() for n in ("strike", "answer")]
    assert [EventCreate(**e).model_dump() for e in bodies] == expected
    assert [EventCreate(**e).model_dump() for e in walked] == expected


def test_the_readme_six_lines_run_as_written(database_url):
    """Issue 25: the seed in six lines, each run by the shell from the checkout against a real server."""
    import json
    import subprocess

    readme = (ROOT / "README.md").read_text().split("## The seed in six lines", 1)[1]
    lines = readme.split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(lines) == 6
    with server(database_url) as base:
        answers = [subprocess.run(["bash", "-c", line.replace("localhost:8000", base.removeprefix("http://"))],
                                  cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
                   for line in lines]
    posted, risk, today, what_if, series, feed = map(json.loads, answers)
    assert [i["status"] for i in posted["items"]] == ["created", "created"]
    assert risk["dyad_id"] == "IRN--PAK" and risk["level"] == "elevated" and risk["event_count"] == 2
    assert today["probability"] < risk["probability"]
    assert what_if["event_count"] == 3 and what_if["as_of"] == "2024-01-20"
    assert len(series["points"]) == 10 and feed["items"] and feed["items"][0]["reason"] == "created"
