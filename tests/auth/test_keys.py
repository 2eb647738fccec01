"""API keys: hashed at rest, scopes enforced once any key exists, open mode only on loopback."""

from sqlalchemy import select

from app import cli
from app.auth import service
from app.auth.models import ApiKey
from tests.factories import IRAN_STRIKE


def _key(client, scopes: list[str]) -> str:
    with client.app.state.write_sessionmaker.begin() as session:
        return service.create(session, "test", scopes)[1]


def test_keys_are_stored_hashed(client):
    plaintext = _key(client, ["read"])
    with client.app.state.sessionmaker() as session:
        stored = session.scalars(select(ApiKey)).one()
    assert plaintext not in (stored.secret_hash, stored.prefix) and len(stored.secret_hash) == 64


def test_scopes_are_enforced_once_a_key_exists(client):
    reader, ingester = _key(client, ["read"]), _key(client, ["ingest"])
    client.app.state.keyring.load()  # as the background refresh would within key_refresh_seconds
    assert client.get("/v1/events").status_code == 401
    assert client.get("/v1/events", headers={"X-API-Key": "esk_00000000_nope"}).json()["error"] == "unauthorized"
    assert client.get("/v1/events", headers={"Authorization": f"Bearer {reader}"}).status_code == 200
    denied = client.post("/v1/events", json=IRAN_STRIKE, headers={"X-API-Key": reader})
    assert denied.status_code == 403 and denied.json()["error"] == "forbidden"
    assert client.post("/v1/events", json=IRAN_STRIKE, headers={"X-API-Key": ingester}).status_code == 201
    assert client.get("/health/live").status_code == 200  # probes stay open


def test_revoked_key_is_refused(client):
    admin = _key(client, ["admin"])
    with client.app.state.write_sessionmaker.begin() as session:
        assert service.revoke(session, admin.split("_")[1])
    client.app.state.keyring.load()
    assert client.get("/v1/events", headers={"X-API-Key": admin}).status_code == 401


def test_serve_refuses_a_public_bind_without_keys(settings, monkeypatch, capsys):
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "1"]) == 2
    assert "refusing to serve" in capsys.readouterr().err


def test_serve_with_a_key_binds_publicly_with_the_connection_limits(settings, monkeypatch, client):
    import uvicorn

    _key(client, ["read"])
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    started = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(kw))
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "1"]) == 0
    assert started["host"] == "0.0.0.0" and started["server_header"] is False
    assert started["limit_concurrency"] == settings.max_connections and started["http"].__name__ == "GuardedProtocol"


def test_keys_cli_creates_lists_and_revokes(settings, monkeypatch, capsys, client):
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["keys", "create", "--name", "poller", "--scopes", "read"]) == 0
    plaintext = capsys.readouterr().out.strip().splitlines()[-1]
    assert plaintext.startswith("esk_")
    assert cli.main(["keys", "list"]) == 0
    assert "poller" in capsys.readouterr().out
    assert cli.main(["keys", "revoke", plaintext.split("_")[1]]) == 0
    assert cli.main(["keys", "revoke", plaintext.split("_")[1]]) == 1


def test_non_ascii_key_is_a_401_with_a_bootstrap_key(settings, scorer):
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app

    with TestClient(create_app(Settings(**{**settings.model_dump(), "bootstrap_api_key": "s3cret-admin-" + "x" * 20}), scorer)) as c:
        assert c.get("/v1/events", headers={"X-API-Key": "café".encode("latin-1")}).status_code == 401
        assert c.get("/v1/events", headers={"X-API-Key": "s3cret-admin-" + "x" * 20}).status_code == 200


def test_behind_a_path_prefix_keys_and_the_write_gate_still_apply(settings, scorer):
    """Served under a root path (uvicorn --root-path /api), scope["path"] starts with the prefix: the guard and the
    key checks read the path the routes match (`route_path`), or "/api/v1/..." would be no write for the write gate
    and no protected path for the rate limits and keys (the routes' own scope checks refuse a keyless request
    either way, so the requests below pass without it too: the first assertions are the ones that fail)."""
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.http import route_path
    from app.main import create_app

    assert route_path({"path": "/api/v1/events", "root_path": "/api"}) == "/v1/events"
    assert route_path({"path": "/apiv1/events", "root_path": "/api"}) == "/apiv1/events"
    assert route_path({"path": "/v1/events", "root_path": ""}) == "/v1/events"
    key = "s3cret-admin-" + "x" * 20
    app = create_app(Settings(**{**settings.model_dump(), "bootstrap_api_key": key}), scorer)
    with TestClient(app, root_path="/api") as c:
        assert c.get("/api/v1/events").status_code == 401
        assert c.post("/api/v1/events", json=IRAN_STRIKE).status_code == 401
        assert c.post("/api/v1/events", json=IRAN_STRIKE, headers={"X-API-Key": key}).status_code == 201
        assert c.get("/api/v1/events", headers={"X-API-Key": key}).json()["items"][0]["source_event_id"] == \
            IRAN_STRIKE["source_event_id"]
