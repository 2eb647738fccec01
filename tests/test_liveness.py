"""Liveness is answered by the guard (app.guards.Guard) before routing: the route's bytes and headers,
counted under the route, on any client the open-mode guard lets through."""

import asyncio
import re

from fastapi.testclient import TestClient
from starlette.responses import JSONResponse

from app.health.router import live
from app.main import create_app


def _served(client) -> float:
    """Liveness answers counted so far (the registry is the process's: other tests count too)."""
    found = re.search(r'escalation_http_requests_total\{method="GET",route="/health/live",status="200"\} (\S+)',
                      client.get("/metrics").text)
    return float(found.group(1)) if found else 0.0


def test_liveness_is_the_routes_answer_with_the_security_headers_and_is_counted(client):
    expected = JSONResponse(asyncio.run(live()))
    before = _served(client)
    answers = [client.get("/health/live") for _ in range(3)]
    for r in answers:
        assert r.status_code == 200 and r.content == expected.body == b'{"status":"ok"}'
        assert r.headers["content-type"] == "application/json" and r.headers["content-length"] == "15"
        assert r.headers["x-content-type-options"] == "nosniff" and "server" not in r.headers
    assert client.head("/health/live").status_code == 405  # as the GET-only route answers
    assert _served(client) == before + 3


def test_liveness_answers_a_remote_client_in_open_mode(settings, scorer):
    with TestClient(create_app(settings, scorer), client=("203.0.113.9", 40000)) as remote:
        assert remote.get("/health/live").status_code == 200
        assert remote.get("/health/ready").status_code == 403
