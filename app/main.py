"""create_app(): settings, lifespan (engine, sessions, keys, model), middleware, routers, error handlers."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine

from app import errors, guards, observability, tracing
from app.auth.middleware import Authenticate, RateLimits
from app.auth.service import KeyRing
from app.config import Settings, get_settings
from app.dashboard import router as dashboard
from app.database import is_postgres, make_engine, make_sessionmaker
from app.events.history import WindowCache
from app.events.router import router as events_router
from app.export.router import router as export_router
from app.extract.router import router as extract_router
from app.events.router import vocabulary_router
from app.health.router import router as health_router
from app.http import BodyLimit
from app.memory import freeze_startup, map_large_blocks
from app.ml.scorer import Scorer, load_scorer
from app.risk.cache import PollAnswers, RiskCache
from app.storage.feed import FeedHead
from app.risk.router import router as risk_router
from app.stream.router import router as stream_router
from app.storage.watchdog import Watchdog
from app.webhooks.delivery import Worker
from app.webhooks.router import router as webhooks_router

log = logging.getLogger("escalation")


def operation_id(route: APIRoute) -> str:
    """OpenAPI operation ids are the route functions' names (`post_event`), so generated clients read well."""
    return route.name


def startup_summary(settings: Settings, engine: Engine, model_version: str, open_mode: bool) -> str:
    """What an operator checks first: where the data is (no password), which model, who may call, on which address."""
    auth = "OPEN, no API key (loopback only)" if open_mode else "API keys required" + (
        " (bootstrap key set)" if settings.bootstrap_api_key else "")
    return (f"database {engine.url.render_as_string(hide_password=True)}; model {model_version} "
            f"from {settings.model_dir}; auth {auth}; address http://{settings.host}:{settings.port}")


def create_app(settings: Settings | None = None, scorer: Scorer | None = None, span_exporter=None) -> FastAPI:
    """The application; `scorer` lets a caller that already loaded the model (tests, benchmarks) share it, and
    `span_exporter` receives the traces (with `ESCALATION_TRACING` off: tests)."""
    settings = settings or get_settings()
    traces = None
    if settings.tracing != "off" or span_exporter is not None:
        traces = tracing.provider(settings.tracing, "0.1.0", span_exporter)
        tracing.use(traces)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        map_large_blocks()  # a write's large arrays go back to the OS when freed (app.memory)
        observability.forget_dead_workers()
        engine = make_engine(settings.resolved_database_url, settings.database_statement_timeout_seconds)
        # PostgreSQL can stop answering without closing its sockets; a SQLite file cannot.
        watchdog = Watchdog(engine, settings.database_silence_seconds) if is_postgres(engine) else None
        app.state.watchdog = watchdog
        app.state.settings = settings
        app.state.engine = engine
        app.state.traces = traces  # the tracer provider (None with tracing off)
        if traces is not None:
            tracing.instrument_engine(engine, traces)
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.write_sessionmaker = make_sessionmaker(engine, writer=True)
        secret = settings.bootstrap_api_key.get_secret_value() if settings.bootstrap_api_key else None
        app.state.keyring = KeyRing(app.state.sessionmaker, secret, ttl=settings.key_refresh_seconds)
        app.state.keyring.start()
        app.state.scorer = scorer or load_scorer(settings.model_dir)
        app.state.risk_cache = RiskCache()
        app.state.window_cache = WindowCache(check=settings.check_fast_paths)  # dyad windows as last assessed: a write reads only what it changed
        app.state.answers = PollAnswers()  # serialised poll answers, checked against the feed head
        app.state.feed_head = FeedHead(settings.resolved_database_url, watchdog)
        log.info("starting: %s", startup_summary(settings, engine, app.state.scorer.version, app.state.keyring.open))
        if app.state.keyring.open:
            log.warning("no API key configured: serving WITHOUT authentication (allowed on loopback only)")
        refresher = asyncio.create_task(app.state.keyring.run())
        watching = asyncio.create_task(watchdog.run(), name="database-watchdog") if watchdog else None
        worker = None
        if settings.webhooks_worker:
            # Every server process delivers; claims keep them from sending the same attempt twice.
            worker = asyncio.create_task(Worker(engine, settings, traces).run(), name="webhook-delivery")
        freeze_startup()
        yield
        refresher.cancel()
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        await app.state.feed_head.close()
        engine.dispose()
        if traces is not None:
            tracing.close(traces)
        if watching is not None:  # last: until here it still frees threads a silent database holds
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching

    # The docs' assets (Swagger UI, ReDoc) are served from the fastapi-offline package, not a CDN.
    app = FastAPIOffline(
        title="escalation-risk",
        version="0.1.0",
        summary="Calibrated escalation-risk assessments for conflict dyads, from your own event records.",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    errors.install(app)
    observability.install(app)
    # One pure ASGI layer: response headers, header size, authentication (before any body is read),
    # content encoding, body size, then for writes the whole body within a deadline and a write slot;
    # metrics; polls answered from the cache while the feed head says they hold.
    app.add_middleware(
        guards.Guard,
        authenticate=Authenticate(RateLimits(settings.rate_limit_per_key, settings.rate_limit_per_address),
                                  proxies_named=bool(settings.forwarded_allow_ips.strip())),
        body=BodyLimit(settings.max_body_bytes),
        writes=guards.WriteGate(settings.write_slots, settings.write_wait_seconds, settings.body_timeout_seconds),
        max_header_bytes=settings.max_header_bytes,
        check=settings.check_fast_paths,
        access_log=settings.access_log,
    )
    for router in (health_router, events_router, vocabulary_router, risk_router, stream_router, webhooks_router,
                   export_router, extract_router):
        app.include_router(router)
    app.include_router(dashboard.router)
    app.mount("/dashboard/static", dashboard.static, name="dashboard-static")
    if traces is not None:
        tracing.instrument_app(app, traces)  # outermost: the request's span is open when the guard runs
    return app
