"""OpenTelemetry tracing, off unless asked for (`ESCALATION_TRACING`): a span per request (FastAPI's
instrumentation), its database statements (SQLAlchemy's) and webhook deliveries (httpx's) inside it, and the
scoring of a batch. `otlp` sends them to the collector the standard `OTEL_EXPORTER_OTLP_*` variables name
(default http://localhost:4318); `console` prints them. Each request's span carries its request id (app.logs)."""

import contextlib
from collections.abc import Iterator

from opentelemetry import propagate, trace

_tracer = trace.NoOpTracer()  # the service's own spans go to the provider `use` names; none until then


def provider(mode: str, service_version: str, exporter=None):
    """A tracer provider exporting to the collector (`otlp`), standard output (`console`) or `exporter` (tests)."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    made = TracerProvider(resource=Resource.create({"service.name": "escalation-risk",
                                                    "service.version": service_version}))
    if exporter is not None:
        made.add_span_processor(SimpleSpanProcessor(exporter))
    elif mode == "console":
        made.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        made.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return made


def use(tracer_provider) -> None:
    """Send the service's own spans (`span`) to this provider (the process's: its latest app's)."""
    global _tracer
    _tracer = tracer_provider.get_tracer("escalation")


def close(tracer_provider) -> None:
    """At the app's shutdown: the engine's statements no longer traced (the instrumentation is the process's, so
    another app can trace its own engine), the service's spans recorded nowhere, and the last spans sent."""
    global _tracer
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    if SQLAlchemyInstrumentor().is_instrumented_by_opentelemetry:
        SQLAlchemyInstrumentor().uninstrument()
    _tracer = trace.NoOpTracer()
    tracer_provider.shutdown()


def instrument_app(app, tracer_provider) -> None:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, tracer_provider=tracer_provider, excluded_urls="health/live,metrics")


def instrument_engine(engine, tracer_provider) -> None:
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # Its package declares SQLAlchemy < 2.1; it hooks the engine's statement events, which 2.1 keeps (the test
    # checks the spans), so the version check is skipped rather than nothing traced.
    SQLAlchemyInstrumentor().instrument(engine=engine, tracer_provider=tracer_provider, enable_commenter=False,
                                        skip_dep_check=True)


def instrument_httpx(client, tracer_provider) -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=tracer_provider)


def tag_request(request_id: str) -> None:
    """Name the request id on the request's span, where one is being recorded."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute("escalation.request_id", request_id)


@contextlib.contextmanager
def span(name: str, parent: str | None = None, **attributes) -> Iterator[None]:
    """A span of the service's own work (scoring a batch, a webhook attempt); free when no provider records.
    `parent`: a W3C traceparent to continue (a delivery's, stored when its write queued it)."""
    context = propagate.extract({"traceparent": parent}) if parent else None
    with _tracer.start_as_current_span(name, context=context, attributes=attributes):
        yield


def traceparent() -> str | None:
    """The current span's W3C traceparent, to store with work done later (None when nothing is recorded)."""
    if not trace.get_current_span().is_recording():
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")
