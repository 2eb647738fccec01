"""What integrators trip over: responds_to by source_event_id, a bare-array batch, readable startup logs."""

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine

from app.main import startup_summary
from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION, event, many

ROOT = Path(__file__).resolve().parents[2]
IRAN_KEY = IRAN_STRIKE["source_event_id"]


def _count(client) -> int:
    return len(client.get("/v1/events", params={"limit": 1000}).json()["items"])


def test_responds_to_by_source_event_id_is_stored_as_the_id_and_shown_with_both(client):
    first = client.post("/v1/events", json=IRAN_STRIKE).json()
    r = client.post("/v1/events", json=event(PAKISTAN_RETALIATION, responds_to=IRAN_KEY))
    assert r.status_code == 201, r.text
    assert r.json()["responds_to"] == first["id"] and r.json()["responds_to_source_event_id"] == IRAN_KEY
    stored = client.get(f"/v1/events/{r.json()['id']}").json()
    assert (stored["responds_to"], stored["responds_to_source_event_id"]) == (first["id"], IRAN_KEY)
    listed = {e["id"]: e for e in client.get("/v1/events").json()["items"]}
    assert listed[r.json()["id"]]["responds_to_source_event_id"] == IRAN_KEY
    assert listed[first["id"]]["responds_to"] is None and listed[first["id"]]["responds_to_source_event_id"] is None
    # Either spelling of the same reference is the same content: re-sends are recognised, not revisions.
    for ref in (IRAN_KEY, first["id"]):
        again = client.post("/v1/events", json=event(PAKISTAN_RETALIATION, responds_to=ref))
        assert again.status_code == 200 and again.json()["status"] == "unchanged"


def test_a_batch_can_answer_an_event_earlier_in_the_same_batch(client):
    third = event(PAKISTAN_RETALIATION, source_event_id="2024-01-19-irn-pak", occurred_on="2024-01-19",
                  actor1={"name": "Iran", "country": "IRN", "kind": "state"},
                  actor2={"name": "Pakistan", "country": "PAK", "kind": "state"},
                  location={"country": "PAK"}, action="threat_to_use_force", weapons=[], fatalities=0,
                  civilian_fatalities=0,
                  responds_to="2024-01-18-pak-irn")
    items = [IRAN_STRIKE, event(PAKISTAN_RETALIATION, responds_to=IRAN_KEY), third, *many(2)]
    r = client.post("/v1/events/batch", json=items)  # a bare array
    assert r.status_code == 200, r.text
    results = r.json()["items"]
    assert [i["index"] for i in results] == [0, 1, 2, 3, 4] and r.json()["created"] == 5
    ids = [i["id"] for i in results]
    assert ids == sorted(ids)  # still created in item order
    second = client.get(f"/v1/events/{ids[1]}").json()
    assert (second["responds_to"], second["responds_to_source_event_id"]) == (ids[0], IRAN_KEY)
    assert client.get(f"/v1/events/{ids[2]}").json()["responds_to"] == ids[1]
    again = client.post("/v1/events/batch", json={"items": items})
    assert again.json()["unchanged"] == 5


def test_unresolvable_references_reject_the_batch_naming_each_item(client):
    client.post("/v1/events", json=IRAN_STRIKE)
    items = [
        event(PAKISTAN_RETALIATION, responds_to="2024-01-19-later"),  # comes later in the batch
        event(source_event_id="2024-01-19-later", occurred_on="2024-01-19"),
        event(source_event_id="other-source", source="acled", responds_to=IRAN_KEY),  # same key, other source
        event(source_event_id="fine", responds_to=IRAN_KEY),
        event(source_event_id="by-id", responds_to=987654),
    ]
    r = client.post("/v1/events/batch", json=items)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] and body["field"] == "items.0.responds_to"
    assert [e["field"] for e in body["errors"]] == ["items.0.responds_to", "items.2.responds_to",
                                                    "items.4.responds_to"]
    assert "source 'acled'" in body["errors"][1]["detail"]
    assert _count(client) == 1  # nothing of the batch was written


def test_bare_array_batch_has_the_same_contract_as_the_wrapped_one(client):
    items = many(3)
    items[1]["fatalities"] = -1
    r = client.post("/v1/events/batch", json=items)
    assert r.status_code == 422 and r.json()["field"] == "items.1.fatalities"
    assert client.post("/v1/events/batch", json=[]).status_code == 422
    client.app.state.settings.max_batch_items = 2
    assert client.post("/v1/events/batch", json=many(3)).status_code == 413
    client.app.state.settings.max_batch_items = 5000
    ok = client.post("/v1/events/batch", json=many(3))
    assert ok.status_code == 200 and ok.json()["created"] == 3
    assert _count(client) == 3


def test_openapi_documents_both_batch_shapes_and_both_reference_kinds(client):
    spec = client.get("/openapi.json").json()
    shapes = spec["components"]["schemas"]["EventBatch"]["anyOf"]
    assert {s.get("type") for s in shapes} == {"object", "array"}
    kinds = {k.get("type") for k in spec["components"]["schemas"]["EventCreate"]["properties"]["responds_to"]["anyOf"]}
    assert {"integer", "string"} <= kinds
    assert "responds_to_source_event_id" in spec["components"]["schemas"]["EventRead"]["properties"]


def test_startup_log_names_database_model_auth_and_address(settings, scorer, caplog):
    from fastapi.testclient import TestClient

    from app.main import create_app

    with caplog.at_level(logging.INFO, logger="escalation"), TestClient(create_app(settings, scorer)):
        pass
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("starting:"))
    assert f"model {scorer.version}" in line and "auth OPEN" in line and "address http://127.0.0.1:8000" in line
    assert "database " in line
    engine = create_engine("postgresql+psycopg://escalation:s3cret@db:5432/escalation")
    summary = startup_summary(settings.model_copy(update={"bootstrap_api_key": "x" * 40}), engine, "v1", False)
    assert "s3cret" not in summary and "escalation:***@db:5432" in summary
    assert "API keys required (bootstrap key set)" in summary


def test_serve_logs_what_matters_without_alembic_chatter(tmp_path):
    """A real `escalation serve` on a fresh embedded database, which it migrates first."""
    from tests.servers import free_port

    port = free_port()
    env = {**os.environ, "ESCALATION_DATA_DIR": str(tmp_path), "ESCALATION_LOG_LEVEL": "info"}
    env.pop("ESCALATION_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "Application startup complete" in line:
                break
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    log = "".join(lines)
    assert "Application startup complete" in log, log
    assert "alembic" not in log.lower(), log
    starting = next(line for line in lines if "starting:" in line)
    for part in (f"database sqlite:///{tmp_path.resolve()}/escalation.db", "model ", "auth OPEN",
                 f"address http://127.0.0.1:{port}"):
        assert part in starting, starting
