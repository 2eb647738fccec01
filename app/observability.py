"""Prometheus metrics: request counts and latencies, events ingested, scoring time; served at /metrics."""

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

# Set by `escalation serve --workers N` before the workers start: each writes its samples there
# and /metrics answers the sum over all of them (prometheus_client's multiprocess mode).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter("escalation_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("escalation_http_request_seconds", "HTTP request latency", ["method", "route"])
EVENTS_INGESTED = Counter("escalation_events_ingested_total", "Events accepted, by outcome", ["status"])
ASSESSMENTS = Counter("escalation_assessments_total", "Assessments stored")
WRITE_RETRIES = Counter("escalation_write_retries_total",
                        "Writes run again after PostgreSQL failed them to break a deadlock")
SCORING_SECONDS = Histogram("escalation_scoring_seconds", "Time spent in the model (features, predict, drivers)")
# Webhooks: each attempt by outcome (delivered, http_error, timeout, refused, network_error), how long one took,
# how long a delivered message waited from its assessment's commit, and endpoints disabled.
WEBHOOK_ATTEMPTS = Counter("escalation_webhook_attempts_total", "Webhook delivery attempts, by outcome", ["outcome"])
WEBHOOK_ATTEMPT_SECONDS = Histogram("escalation_webhook_attempt_seconds", "One webhook delivery attempt, end to end")
WEBHOOK_LAG = Histogram("escalation_webhook_delivery_lag_seconds",
                        "From a delivery's creation (its assessment's commit) to its success",
                        buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400))
WEBHOOK_DISABLED = Counter("escalation_webhook_endpoints_disabled_total", "Webhook endpoints disabled")
WEBHOOK_PENDING = Gauge("escalation_webhook_deliveries_pending", "Webhook deliveries not yet delivered, failed or given "
                        "up, as the delivery worker last counted them (its queue depth)",
                        multiprocess_mode="livemostrecent")
# The change feed's newest assessment id, as the worker last read it (polls and the stream read it).
FEED_HEAD = Gauge("escalation_feed_head", "Newest assessment id in the change feed", multiprocess_mode="livemax")
# The live stream: connections open now (summed over workers) and events sent.
STREAMS_OPEN = Gauge("escalation_stream_connections", "Open GET /v1/stream connections", multiprocess_mode="livesum")
STREAM_EVENTS = Counter("escalation_stream_events_total", "Events sent on GET /v1/stream")


class RequestMetrics:
    """Count and time one answered request (`app.guards.Guard` calls `record`).

    The labelled children are looked up once per (method, route, status) and kept: `labels()` takes
    a lock and builds a key on every call. The route is its template, not the raw path, so the
    label set stays bounded.
    """

    def __init__(self):
        self._counts: dict[tuple[str, str, int], object] = {}
        self._latency: dict[tuple[str, str], object] = {}

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        count = self._counts.get((method, route, status))
        if count is None:
            count = self._counts[method, route, status] = REQUESTS.labels(method, route, str(status))
        latency = self._latency.get((method, route))
        if latency is None:
            latency = self._latency[method, route] = LATENCY.labels(method, route)
        count.inc()
        latency.observe(seconds)


@contextmanager
def multiprocess_dir() -> Iterator[str]:
    """A fresh directory for the workers' metric files, named in the environment they inherit."""
    given = os.environ.get(MULTIPROC_ENV)
    path = given or tempfile.mkdtemp(prefix="escalation-metrics-")
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):  # samples of an earlier run would be summed in
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))
    os.environ[MULTIPROC_ENV] = path
    try:
        yield path
    finally:
        if not given:
            shutil.rmtree(path, ignore_errors=True)


def forget_dead_workers() -> None:
    """Drop the live gauges (open streams, queue depth, feed head) of workers that died without saying so (killed,
    out of memory): uvicorn's manager starts a new worker in their place, whose start-up runs this."""
    from prometheus_client.multiprocess import mark_process_dead

    path = os.environ.get(MULTIPROC_ENV)
    if not path:
        return
    pids = {int(m.group(1)) for name in os.listdir(path) if (m := _LIVE_FILE.fullmatch(name))}
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            mark_process_dead(pid, path)
        except PermissionError:  # alive, someone else's
            continue


_LIVE_FILE = re.compile(r"gauge_live\w+_(\d+)\.db")


def _exposition() -> bytes:
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()


def install(app: FastAPI) -> None:
    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(_exposition(), media_type=CONTENT_TYPE_LATEST)
