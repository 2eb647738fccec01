"""Logs an operator can use: a request id on every answer and record, one access line per request, JSON on request."""

import json

import httpx

from app import logs
from tests.servers import Server


def test_a_request_id_is_echoed_when_plain_and_made_otherwise(client):
    given = client.get("/health/live", headers={"X-Request-ID": "lb-7f3a:42"})
    assert given.headers["x-request-id"] == "lb-7f3a:42"
    made = client.get("/v1/risk", params={"a": "IRN", "b": "PAK"})
    assert len(made.headers["x-request-id"]) == 16 and made.headers["x-request-id"] != given.headers["x-request-id"]
    refused = client.get("/health/live", headers={"X-Request-ID": "two words <script>"})
    assert refused.headers["x-request-id"] not in ("two words", "") and " " not in refused.headers["x-request-id"]
    assert client.get("/v1/risk", params={"a": "IRN", "b": "IRN"}).headers["x-request-id"]  # refusals carry one too


def test_json_logs_carry_the_request_id_and_an_access_line(database_url):
    server = Server(database_url, env={"ESCALATION_LOG_FORMAT": "json", "ESCALATION_LOG_LEVEL": "info"})
    try:
        assert httpx.get(f"{server.base}/v1/risk", params={"a": "IRN", "b": "PAK", "as_of": "2024-01-18"},
                         headers={"X-Request-ID": "trace-me-123"}).status_code == 200
        assert httpx.get(f"{server.base}/v1/dyads/NOPE--NADA", headers={"X-Request-ID": "missing-1"}).status_code == 404
    finally:
        server.stop()
    records = [json.loads(line) for line in server.stderr_tail(200_000).splitlines() if line.strip()]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any(r["logger"].startswith("uvicorn") for r in records)  # uvicorn's own lines are JSON too
    access = {r["request_id"]: r for r in records if r["logger"] == "escalation.access"}
    hit = access["trace-me-123"]
    assert hit["method"] == "GET" and hit["path"] == "/v1/risk?a=IRN&b=PAK&as_of=2024-01-18"
    assert hit["status"] == 200 and hit["duration_ms"] > 0 and hit["client"] == "127.0.0.1"
    assert access["missing-1"]["status"] == 404


def test_text_logs_name_the_request_and_the_access_log_can_be_turned_off(database_url):
    server = Server(database_url, env={"ESCALATION_LOG_LEVEL": "info"})
    try:
        httpx.get(f"{server.base}/health/ready", headers={"X-Request-ID": "text-1"})
        httpx.get(f"{server.base}/x%0d%0aFAKE%20200%20LINE", headers={"X-Request-ID": "forged-1"})
    finally:
        server.stop()
    lines = server.stderr_tail(200_000).splitlines()
    line = next(x for x in lines if "[text-1]" in x)
    assert "escalation.access" in line and '"GET /health/ready" 200' in line
    forged = [x for x in lines if "FAKE 200 LINE" in x]
    assert len(forged) == 1 and "[forged-1]" in forged[0] and "\\x0d\\x0a" in forged[0]  # one line, escaped
    quiet = Server(database_url, env={"ESCALATION_LOG_LEVEL": "info", "ESCALATION_ACCESS_LOG": "false"})
    try:
        httpx.get(f"{quiet.base}/health/ready", headers={"X-Request-ID": "text-2"})
    finally:
        quiet.stop()
    assert "text-2" not in quiet.stderr_tail(200_000) and "Application startup complete" in quiet.stderr_tail(200_000)


def test_the_config_routes_uvicorn_and_quiets_httpx():
    config = logs.config("text", "info")
    assert config["loggers"]["httpx"]["level"] == "WARNING" and config["loggers"]["uvicorn.access"]["level"] == "WARNING"
    assert config["root"]["level"] == "INFO" and config["handlers"]["default"]["filters"] == ["request_id"]
