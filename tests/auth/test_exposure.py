"""What anyone can reach: authentication before the body, every /v1 route and /metrics behind a key,
the open-mode guard in the app itself, rate limits, the docs, and response headers."""

import re

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.auth import service
from app.config import Settings
from app.main import create_app
from tests.factories import IRAN_STRIKE

BOOTSTRAP = "b" * 40


def _with(settings: Settings, **changes) -> Settings:
    return Settings(**{**settings.model_dump(), **changes})  # validated, unlike model_copy


@pytest.fixture
def keyed(settings, scorer):
    """An app with keys configured (the bootstrap key plus a stored read-only key)."""
    app = create_app(_with(settings, bootstrap_api_key=BOOTSTRAP), scorer)
    with TestClient(app) as c:
        with c.app.state.write_sessionmaker.begin() as session:
            c.reader = service.create(session, "reader", ["read"])[1]
            c.scraper = service.create(session, "scraper", ["metrics"])[1]
        c.admin = BOOTSTRAP
        c.app.state.keyring.load()
        yield c


def test_malformed_json_without_a_key_is_a_401_not_a_parse_error(keyed):
    r = keyed.post("/v1/events", content=b'{"source_event_id": ', headers={"content-type": "application/json"})
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", ["/v1/vocabulary", "/v1/model", "/v1/events", "/v1/assessments", "/metrics"])
def test_every_v1_route_and_metrics_need_a_key(keyed, path):
    assert keyed.get(path).status_code == 401
    if path == "/metrics":  # a scraper's key, or admin: not every client's
        r = keyed.get(path, headers={"X-API-Key": keyed.reader})
        assert r.status_code == 403 and "metrics" in r.json()["detail"]
        assert keyed.get(path, headers={"X-API-Key": keyed.scraper}).status_code == 200
        assert keyed.get(path, headers={"X-API-Key": keyed.admin}).status_code == 200
    else:
        assert keyed.get(path, headers={"X-API-Key": keyed.reader}).status_code == 200


def test_readiness_details_only_for_a_caller_with_a_key(keyed):
    anonymous = keyed.get("/health/ready")
    assert anonymous.status_code == 200 and anonymous.json() == {"status": "ok"}
    detailed = keyed.get("/health/ready", headers={"Authorization": f"Bearer {keyed.reader}"}).json()
    assert detailed["status"] == "ok" and detailed["checks"]["model"]["version"]


def test_open_mode_refuses_a_non_loopback_client_whoever_started_the_app(settings, scorer):
    # As `uvicorn app.main:create_app --factory --host 0.0.0.0` would: no CLI guard in the way.
    with TestClient(create_app(settings, scorer), client=("203.0.113.9", 40000)) as remote:
        r = remote.get("/v1/events")
        assert r.status_code == 403 and "loopback" in r.json()["detail"]
        assert remote.post("/v1/events", json=IRAN_STRIKE).status_code == 403
        assert remote.get("/metrics").status_code == 403
        assert remote.get("/health/live").status_code == 200
    with TestClient(create_app(settings, scorer), client=("127.0.0.1", 40000)) as local:
        assert local.get("/v1/events").status_code == 200


@pytest.mark.parametrize("short", ["a", "x" * 31])
def test_bootstrap_key_needs_32_characters(short):
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(bootstrap_api_key=short)


def test_openapi_declares_bearer_and_x_api_key_and_docs_need_no_cdn(keyed):
    spec = keyed.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    assert schemes["APIKeyHeader"] == {"type": "apiKey", "in": "header", "name": "X-API-Key",
                                       "description": "API key"}
    assert {"HTTPBearer": []} in spec["paths"]["/v1/events"]["get"]["security"]
    page = keyed.get("/docs").text
    assert not re.search(r"(src|href)=\"https?://", page), page
    for asset in re.findall(r"(?:src|href)=['\"](/[^'\"]+)['\"]", page):
        assert keyed.get(asset).status_code == 200, asset


def test_rate_limit_per_key_answers_429_with_retry_after(settings, scorer):
    limited = _with(settings, bootstrap_api_key=BOOTSTRAP, rate_limit_per_key="3/minute")
    with TestClient(create_app(limited, scorer)) as c:
        answers = [c.get("/v1/events", headers={"X-API-Key": BOOTSTRAP}) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert answers[-1].json()["error"] == "rate_limited" and 1 <= int(answers[-1].headers["retry-after"]) <= 60


def test_rate_limit_per_address_for_requests_without_a_valid_key(settings, scorer):
    limited = _with(settings, bootstrap_api_key=BOOTSTRAP, rate_limit_per_address="2/minute")
    with TestClient(create_app(limited, scorer)) as c:
        codes = [c.get("/v1/events", headers={"X-API-Key": f"esk_0000000{i}_guess"}).status_code for i in range(3)]
        assert codes == [401, 401, 429]
        assert c.get("/v1/events", headers={"X-API-Key": BOOTSTRAP}).status_code == 200  # keys are counted apart


def test_rate_limits_are_off_in_open_mode(client):
    assert {client.get("/health/live").status_code for _ in range(150)} == {200}


def test_nosniff_on_every_answer(keyed):
    for r in (keyed.get("/v1/events"), keyed.get("/health/live"), keyed.get("/nowhere")):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "server" not in r.headers


@pytest.mark.parametrize("encoding", ["gzip", "br", "deflate", "x-unknown"])
def test_compressed_bodies_are_refused_with_415(client, encoding):
    r = client.post("/v1/events", json=IRAN_STRIKE, headers={"content-encoding": encoding})
    assert r.status_code == 415 and r.json()["field"] == "content-encoding"
    assert client.get("/v1/events").json()["items"] == []
    assert client.post("/v1/events", json=IRAN_STRIKE, headers={"content-encoding": "identity"}).status_code == 201


def test_oversized_headers_are_a_431_before_the_key_is_hashed(keyed, monkeypatch):
    hashed = []
    monkeypatch.setattr(service, "_hash", lambda s: hashed.append(s) or "")
    r = keyed.get("/v1/events", headers={"X-API-Key": "esk_x_" + "a" * 200_000})
    assert r.status_code == 431 and r.json()["error"] == "headers_too_large"
    assert keyed.get("/v1/events", headers={"X-Padding": "p" * 17_000}).status_code == 431
    assert hashed == []


def test_forwarded_headers_are_believed_only_from_the_proxies_named(database_url):
    """uvicorn believes X-Forwarded-For from 127.0.0.1 by default: a local client could then pose as any address
    (and walk around the per-address rate limit). Through `escalation serve`, as users run it."""
    from tests.servers import Server

    spoofed = {"X-Forwarded-For": "203.0.113.9"}
    plain = Server(database_url)
    try:  # nothing named: the header is not believed, and in open mode a request forwarded by anyone is refused
        assert httpx.get(f"{plain.base}/v1/events", timeout=10).status_code == 200
        r = httpx.get(f"{plain.base}/v1/events", headers=spoofed, timeout=10)
        assert r.status_code == 403 and "ESCALATION_FORWARDED_ALLOW_IPS" in r.json()["detail"]
    finally:
        plain.stop()
    proxied = Server(database_url, env={"ESCALATION_FORWARDED_ALLOW_IPS": "127.0.0.1"})
    try:  # 127.0.0.1 named as a proxy: its claim is believed, and a non-loopback client is refused in open mode
        r = httpx.get(f"{proxied.base}/v1/events", headers=spoofed, timeout=10)
        assert r.status_code == 403 and "loopback clients only" in r.json()["detail"]
        assert httpx.get(f"{proxied.base}/v1/events", headers={"X-Forwarded-For": "127.0.0.1"},
                         timeout=10).status_code == 200  # a local client through the named proxy
    finally:
        proxied.stop()


def test_with_keys_a_rotating_forwarded_header_gets_around_no_rate_limit(database_url):
    """The attack the hardening review ran: requests without a key are limited per address, and through
    `escalation serve` the address is the peer's, whatever X-Forwarded-For says (nothing named, nothing believed)."""
    from tests.servers import Server

    server = Server(database_url, env={"ESCALATION_BOOTSTRAP_API_KEY": BOOTSTRAP,
                                       "ESCALATION_RATE_LIMIT_PER_ADDRESS": "3/minute"})
    try:
        codes = [httpx.get(f"{server.base}/v1/events", headers={"X-Forwarded-For": f"198.51.100.{i}"},
                           timeout=10).status_code for i in range(6)]
    finally:
        server.stop()
    assert codes[:3] == [401, 401, 401] and set(codes[3:]) == {429}
