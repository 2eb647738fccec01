"""A PostgreSQL that stops answering without closing its sockets (a partition, a frozen primary): every request
that needs it gets a 503 within seconds, liveness never waits, and everything comes back by itself.

Between the server and PostgreSQL sits a TCP proxy that can stop forwarding while keeping every socket open:
what the service then sees is what a dropped link looks like until TCP gives up, many minutes later.
"""

import select
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.database import make_engine
from app.storage.feed import FEED_LOCK
from app.main import create_app

from tests.conftest import PG_URL
from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION, event
from tests.receiver import Receiver
from tests.servers import Server

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not PG_URL, reason="a network between the service and "
                                                   "PostgreSQL; SQLite is a local file")]

ANSWER_SECONDS = 6.0  # the bound for a request whose database does not answer
READY_SECONDS = 2.0


class Partition:
    """A TCP proxy to `upstream`; `cut()` stops it forwarding (bytes wait in the kernels' buffers, sockets stay
    open, new connections are accepted and get nothing), `heal()` delivers everything again."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.forwarding = threading.Event()
        self.forwarding.set()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        self.forwarding.clear()

    def heal(self) -> None:
        self.forwarding.set()

    def close(self) -> None:
        self.closed = True
        self.forwarding.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            pair = [client, server]
            threading.Thread(target=self._pump, args=(client, server, pair), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, pair), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, pair: list[socket.socket]) -> None:
        try:
            while not self.closed:
                self.forwarding.wait()
                if not select.select([src], [], [], 0.1)[0] or not self.forwarding.is_set():
                    continue
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in pair:  # one side gone: so is the other, as a real proxy (or the peer's TCP) would see it
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _retried(method: str, url: str, **kw) -> httpx.Response:
    """The answer once it is not a 503 (a worker whose probe has not yet seen the database back), within 15 s."""
    deadline = time.monotonic() + 15
    while (r := httpx.request(method, url, timeout=30, **kw)).status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.2)
    return r


def _timed(method: str, url: str, **kwargs) -> tuple[float, httpx.Response | str]:
    started = time.monotonic()
    try:
        r = httpx.request(method, url, timeout=30, **kwargs)
    except httpx.HTTPError as exc:
        return time.monotonic() - started, type(exc).__name__
    return time.monotonic() - started, r


def _wait(predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := predicate()):
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health/ready", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


class Stream:
    """GET /v1/stream in a thread: the ids it receives, and when the server ended it."""

    def __init__(self, base: str, after: str | None = None):
        self.ids: list[str] = []
        self.ended_at: float | None = None
        headers = {"last-event-id": after} if after else {}
        self._thread = threading.Thread(target=self._read, args=(base, headers), daemon=True)
        self._thread.start()

    def _read(self, base: str, headers: dict) -> None:
        try:
            with httpx.stream("GET", f"{base}/v1/stream", headers=headers, timeout=httpx.Timeout(5, read=120)) as r:
                for line in r.iter_lines():
                    if line.startswith("id:"):
                        self.ids.append(line[3:].strip())
        except httpx.HTTPError:
            pass
        self.ended_at = time.monotonic()


def test_a_database_that_stops_answering_is_a_503_within_seconds_and_recovery_is_automatic(database_url):
    url = make_url(PG_URL)
    partition = Partition((url.host or "127.0.0.1", url.port or 5432))
    through = url.set(host="127.0.0.1", port=partition.port).render_as_string(False)
    env = {"ESCALATION_WEBHOOKS_ALLOW_PRIVATE": "true", "ESCALATION_WEBHOOKS_POLL_SECONDS": "0.2",
           "ESCALATION_STREAM_POLL_SECONDS": "0.2"}
    with Receiver() as receiver:
        srv = Server(through, env=env, workers=2)
        base = srv.base
        try:
            assert httpx.post(f"{base}/v1/webhooks", json={"url": receiver.url}).status_code == 201
            assert httpx.post(f"{base}/v1/events", json=IRAN_STRIKE).status_code == 201
            receiver.wait_for(1)
            assert httpx.get(f"{base}/v1/risk", params={"a": "IRN", "b": "PAK"}).status_code == 200  # cached now
            stream = Stream(base, after="0")
            _wait(lambda: stream.ids, 10)

            partition.cut()
            cut_at = time.monotonic()
            write = event(PAKISTAN_RETALIATION)
            calls = {
                "ready": ("GET", f"{base}/health/ready", {}),
                "events": ("GET", f"{base}/v1/events", {}),
                "risk": ("GET", f"{base}/v1/risk", {"params": {"a": "IRN", "b": "PAK"}}),
                "risk_as_of": ("GET", f"{base}/v1/risk", {"params": {"a": "IRN", "b": "PAK", "as_of": "2024-02-01"}}),
                "feed": ("GET", f"{base}/v1/assessments", {}),
                "write": ("POST", f"{base}/v1/events", {"json": write}),
            }
            with ThreadPoolExecutor(len(calls)) as pool:
                futures = {name: pool.submit(_timed, m, u, **kw) for name, (m, u, kw) in calls.items()}
                live = [_timed("GET", f"{base}/health/live") for _ in range(5)]  # while the others wait
                answers = {name: f.result() for name, f in futures.items()}
            for name, (took, r) in answers.items():
                assert not isinstance(r, str), f"{name}: {r} after {took:.1f} s"
                limit = READY_SECONDS if name == "ready" else ANSWER_SECONDS
                assert r.status_code == 503 and took < limit, f"{name}: {r.status_code} after {took:.2f} s {r.text}"
                if name != "ready":
                    assert r.json()["error"] == "database_unavailable" and r.headers["retry-after"], (name, r.text)
            assert all(not isinstance(r, str) and r.status_code == 200 and took < 0.5 for took, r in live), live
            _wait(lambda: stream.ended_at, ANSWER_SECONDS + 2)  # the stream ends: the client reconnects later
            assert stream.ended_at - cut_at < ANSWER_SECONDS + 1

            # While it lasts, a request no longer waits for the probe: the service knows nobody answers.
            time.sleep(2)
            took, r = _timed("POST", f"{base}/v1/events", json=write)
            assert not isinstance(r, str) and r.status_code == 503 and took < ANSWER_SECONDS, (took, r)
            quick = [_timed("GET", f"{base}/v1/events") for _ in range(4)]
            assert all(not isinstance(r, str) and r.status_code == 503 for _, r in quick), quick
            assert min(took for took, _ in quick) < 1.0, quick

            delivered = len(receiver.received)
            partition.heal()
            healed_at = time.monotonic()
            _wait(lambda: _ready(base), 15)
            recovered = time.monotonic() - healed_at
            # Each worker finds out by its own probe (one starts every 0.5 s and waits up to 2 s): a client retries
            # on 503, as its Retry-After says. The write the client saw fail was not applied (its transaction never
            # reached a commit): sent again, it is created, once.
            sent = [httpx.post(f"{base}/v1/events", json=write, timeout=30)]
            while sent[-1].status_code == 503 and time.monotonic() - healed_at < 10:
                time.sleep(0.2)
                sent.append(httpx.post(f"{base}/v1/events", json=write, timeout=30))
            writes_again = time.monotonic() - healed_at
            assert [r.status_code for r in sent[:-1]] == [503] * (len(sent) - 1), [r.text for r in sent]
            assert sent[-1].status_code == 201, sent[-1].text
            # the other worker may still be waiting for its own probe: a 503 there is retried, as a client would
            assert _retried("POST", f"{base}/v1/events", json=write).status_code == 200  # unchanged
            listed = _retried("GET", f"{base}/v1/events", params={"limit": 100}).json()["items"]
            assert sorted(e["source_event_id"] for e in listed) == sorted(
                [IRAN_STRIKE["source_event_id"], write["source_event_id"]])
            # The webhook worker goes on by itself, and a stream resumed from its last id misses nothing.
            receiver.wait_for(delivered + 1, timeout=30)
            resumed = Stream(base, after=stream.ids[-1])
            _wait(lambda: resumed.ids, 15)
            assert int(resumed.ids[0]) > int(stream.ids[-1])
        finally:
            srv.stop()
            partition.close()
    print(f"\nanswers in the cut: { {n: round(t, 2) for n, (t, _) in answers.items()} }; "
          f"ready again {recovered:.1f} s after the heal, writes accepted again after {writes_again:.1f} s")
    assert recovered < 10 and writes_again < 10


def test_a_write_waiting_on_a_lock_is_left_to_wait(settings, scorer, database_url):
    """The watchdog probes once a statement has run `silence` seconds; the database answers the probe, so a write
    queued behind another transaction's lock is slow, not cut off."""
    settings = settings.model_copy(update={"database_silence_seconds": 0.3})
    other = make_engine(database_url)
    with TestClient(create_app(settings, scorer)) as client, other.connect() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FEED_LOCK})  # held until this transaction ends
        threading.Timer(3.0, conn.rollback).start()
        started = time.monotonic()
        r = client.post("/v1/events", json=IRAN_STRIKE)
        took = time.monotonic() - started
        assert r.status_code == 201 and took > 2.9, (r.status_code, took, r.text)
        assert client.app.state.watchdog.silent is False
        with client.app.state.engine.connect() as mine:
            assert mine.exec_driver_sql("SHOW statement_timeout").scalar() == "1min"
    other.dispose()
