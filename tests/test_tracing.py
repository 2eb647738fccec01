"""OpenTelemetry: with tracing on, a request is one trace: its span (named by route, with the request id), the
database statements and the scoring inside it; with it off (the default) nothing is instrumented."""

from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app.main import create_app
from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION, event


def test_a_write_is_one_trace_with_its_statements_and_scoring(settings, scorer):
    spans = InMemorySpanExporter()
    with TestClient(create_app(settings, scorer, span_exporter=spans)) as client:
        spans.clear()  # start-up's statements
        r = client.post("/v1/events/batch", json=[IRAN_STRIKE, PAKISTAN_RETALIATION], headers={"X-Request-ID": "t-1"})
        assert r.status_code == 200
    finished = spans.get_finished_spans()
    server = [s for s in finished if s.kind.name == "SERVER"]
    assert len(server) == 1 and server[0].name == "POST /v1/events/batch"
    assert server[0].attributes["escalation.request_id"] == "t-1"
    status = server[0].attributes.get("http.response.status_code", server[0].attributes.get("http.status_code"))
    assert status == 200
    trace_id = server[0].context.trace_id
    inside = [s for s in finished if s.context.trace_id == trace_id]
    statements = [s for s in inside if s.attributes.get("db.system") or s.attributes.get("db.system.name")]
    assert len(statements) >= 5  # the events, their dyads, the windows read, the assessments written
    score = [s for s in inside if s.name == "escalation.score"]
    assert len(score) == 1 and score[0].attributes["dyads"] == 3


def test_a_webhook_delivery_joins_the_trace_of_the_write_that_queued_it(settings, scorer):
    import asyncio

    import httpx

    from app.webhooks.delivery import Worker
    from tests.receiver import Receiver

    spans = InMemorySpanExporter()
    quiet = settings.model_copy(update={"webhooks_worker": False, "webhooks_allow_private": True})
    with TestClient(create_app(quiet, scorer, span_exporter=spans)) as client, Receiver() as receiver:
        assert client.post("/v1/webhooks", json={"url": receiver.url, "filters": {"dyads": ["IRN--PAK"]}}
                           ).status_code == 201
        spans.clear()
        assert client.post("/v1/events", json=IRAN_STRIKE).status_code == 201
        state = client.app.state
        worker = Worker(state.engine, state.settings, state.traces)

        async def one_round() -> int:
            async with httpx.AsyncClient(timeout=5) as http:
                from app import tracing

                tracing.instrument_httpx(http, state.traces)
                return await worker.run_once(http)

        assert asyncio.run(one_round()) == 1
        got = receiver.wait_for(1)
    finished = spans.get_finished_spans()
    write = next(s for s in finished if s.kind.name == "SERVER" and s.name == "POST /v1/events")
    attempt = next(s for s in finished if s.name == "escalation.webhook.attempt")
    sent = [s for s in finished if s.kind.name == "CLIENT" and s.attributes.get("http.request.method", s.attributes.get(
        "http.method")) == "POST"]
    assert attempt.context.trace_id == write.context.trace_id  # one trace: the POST, its statements, the delivery
    assert sent and sent[0].parent.span_id == attempt.context.span_id
    assert f"{write.context.trace_id:032x}" in got[0].headers["traceparent"]  # and the receiver can continue it


def test_each_app_traces_its_own_engine_and_nothing_after_it_stops(settings, scorer):
    first, second = InMemorySpanExporter(), InMemorySpanExporter()
    with TestClient(create_app(settings, scorer, span_exporter=first)) as client:
        client.post("/v1/events", json=IRAN_STRIKE)
    with TestClient(create_app(settings, scorer, span_exporter=second)) as client:
        first.clear()
        client.post("/v1/events", json=PAKISTAN_RETALIATION)
    assert first.get_finished_spans() == ()  # the first app's provider is shut down: nothing more reaches it
    assert any(s.attributes.get("db.system") or s.attributes.get("db.system.name") for s in second.get_finished_spans())
    with TestClient(create_app(settings, scorer)) as client:  # tracing off: the scoring span goes nowhere
        second.clear()
        client.post("/v1/events", json=event(IRAN_STRIKE, source_event_id="after"))
    assert second.get_finished_spans() == ()


def test_tracing_is_off_by_default(settings, scorer):
    with TestClient(create_app(settings, scorer)) as client:
        assert settings.tracing == "off"
        assert client.get("/health/ready").status_code == 200
        assert not hasattr(client.app, "_is_instrumented_by_opentelemetry") or not \
            client.app._is_instrumented_by_opentelemetry
