"""GET /v1/stream against a real server process, read by a streaming httpx client: live events, resume, pings."""

import json
import threading
import time

import httpx
import pytest

from app.auth import service as auth
from app.database import make_engine, make_sessionmaker
from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION
from tests.servers import server

pytestmark = pytest.mark.slow
ENV = {"ESCALATION_STREAM_POLL_SECONDS": "0.1", "ESCALATION_STREAM_PING_SECONDS": "1"}


def _events(response: httpx.Response, n: int, *, pings: list | None = None, within: float = 60) -> list[dict]:
    """The first n SSE events of a response, each as {id, event, data}; comment lines go to `pings`.

    Pings keep the read timeout from firing, so an overall deadline turns a missing event into a failure."""
    out, current = [], {}
    deadline = time.monotonic() + within
    for line in response.iter_lines():
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(out)} of {n} events within {within} s")
        if line.startswith(":"):
            if pings is not None:
                pings.append(line)
        elif line == "":
            if current.get("data"):
                out.append({**current, "data": json.loads(current["data"])})
                if len(out) == n:
                    return out
            current = {}
        else:
            key, _, value = line.partition(":")
            current[key] = value.removeprefix(" ")
    raise AssertionError("stream ended")


def test_the_stream_shows_new_assessments_live_and_resumes_after_last_event_id(database_url):
    with server(database_url, env=ENV) as base, httpx.Client(base_url=base, timeout=30) as client:
        with client.stream("GET", "/v1/stream") as live:
            assert live.status_code == 200 and live.headers["content-type"].startswith("text/event-stream")
            poster = threading.Timer(0.5, lambda: (client.post("/v1/events", json=IRAN_STRIKE),
                                                  client.post("/v1/events", json=PAKISTAN_RETALIATION)))
            poster.start()
            pings: list[str] = []
            seen = _events(live, 4, pings=pings)
            poster.join()
        feed = client.get("/v1/assessments").json()["items"]
        assert [int(e["id"]) for e in seen] == [a["id"] for a in feed]
        for e, a in zip(seen, feed):
            assert e["event"] == e["data"]["type"] in ("assessment.created", "risk.level_changed")
            assert {k: v for k, v in e["data"]["data"].items() if k != "previous_level"} == a

        # A reconnect resumes exactly after the last event seen, by header or by query.
        with client.stream("GET", "/v1/stream", headers={"Last-Event-ID": seen[1]["id"]}) as resumed:
            assert [e["id"] for e in _events(resumed, 2)] == [seen[2]["id"], seen[3]["id"]]
        with client.stream("GET", "/v1/stream", params={"after": seen[2]["id"]}) as resumed:
            assert [e["id"] for e in _events(resumed, 1)] == [seen[3]["id"]]

        # Filters are the webhooks'; with nothing new the connection is kept alive by pings.
        with client.stream("GET", "/v1/stream", params={"after": "0", "dyad": "PAK--IRN"}) as filtered:
            mine = _events(filtered, 2)
            assert [e["data"]["data"]["dyad_id"] for e in mine] == ["IRN--PAK"] * 2
        with client.stream("GET", "/v1/stream", params={"dyad": "IRN--PAK"}) as quiet:
            lines = quiet.iter_lines()
            quiet_lines = [next(lines) for _ in range(4)]  # ~2 s with nothing new: only pings
            pings = [line for line in quiet_lines if line]
        assert len(pings) >= 2 and all(p.startswith(": ping") for p in pings)


def test_open_streams_and_their_events_are_counted(database_url):
    def metric(client, name: str) -> float:
        line = next((x for x in client.get("/metrics").text.splitlines() if x.startswith(name + " ")), None)
        return float(line.split()[1]) if line else 0.0

    with server(database_url, env=ENV) as base, httpx.Client(base_url=base, timeout=30) as client:
        assert metric(client, "escalation_stream_connections") == 0
        with client.stream("GET", "/v1/stream", params={"after": "0"}) as one, \
                client.stream("GET", "/v1/stream", params={"after": "0"}) as two:
            assert metric(client, "escalation_stream_connections") == 2
            client.post("/v1/events", json=IRAN_STRIKE)
            _events(one, 2), _events(two, 2)  # each read closes its stream once it has its events
            assert metric(client, "escalation_stream_events_total") == 4
        deadline = time.monotonic() + 10  # the server sees each disconnect at its next poll or ping
        while metric(client, "escalation_stream_connections") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert metric(client, "escalation_stream_connections") == 0


def test_bad_stream_parameters_are_a_422(client):
    for params, field in [({"after": "x"}, "cursor"), ({"country": "XXX"}, "country"), ({"dyad": "IRN"}, "dyad"),
                          ({"min_level": "severe"}, "query.min_level")]:
        r = client.get("/v1/stream", params=params)
        assert r.status_code == 422 and r.json()["field"] == field, (params, r.text)


def test_a_revoked_key_ends_its_stream(database_url):
    engine = make_engine(database_url)
    with make_sessionmaker(engine).begin() as session:
        reader = auth.create(session, "reader", ["read"])[1]
    env = {**ENV, "ESCALATION_KEY_REFRESH_SECONDS": "0.2"}
    try:
        with server(database_url, env=env) as base, httpx.Client(base_url=base, timeout=30) as client:
            with client.stream("GET", "/v1/stream", headers={"X-API-Key": reader}) as live:
                assert live.status_code == 200
                started = time.monotonic()
                with make_sessionmaker(engine).begin() as session:
                    assert auth.revoke(session, reader.split("_")[1])
                with pytest.raises(AssertionError, match="stream ended"):
                    _events(live, 1, within=20)
                assert time.monotonic() - started < 10
            assert client.get("/v1/stream", headers={"X-API-Key": reader}).status_code == 401
    finally:
        engine.dispose()
