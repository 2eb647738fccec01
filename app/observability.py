"""Prometheus metrics: request counts and latencies, events ingested, scoring time; served at /metrics."""

import time

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

REQUESTS = Counter("escalation_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("escalation_http_request_seconds", "HTTP request latency", ["method", "route"])
EVENTS_INGESTED = Counter("escalation_events_ingested_total", "Events accepted, by outcome", ["status"])
ASSESSMENTS = Counter("escalation_assessments_total", "Assessments stored")
SCORING_SECONDS = Histogram("escalation_scoring_seconds", "Time spent in the model (features, predict, drivers)")


class _Measure:
    """Pure ASGI middleware (no per-request task or body copy, unlike BaseHTTPMiddleware)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status = time.perf_counter(), [500]

        async def capture(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            # The route template, not the raw path, keeps label cardinality bounded.
            name = getattr(scope.get("route"), "path", "unmatched")
            REQUESTS.labels(scope["method"], name, str(status[0])).inc()
            LATENCY.labels(scope["method"], name).observe(time.perf_counter() - start)


def install(app: FastAPI) -> None:
    app.add_middleware(_Measure)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
