"""Readiness checks, answered within READY_SECONDS whether or not the database answers."""

import asyncio

from sqlalchemy.engine import Engine

from app import migrate
from app.storage.watchdog import Watchdog, within

READY_SECONDS = 1.5  # a load balancer's probe waits ~2 s: "not ready" must come before it gives up


async def readiness(engine: Engine, scorer, watchdog: Watchdog | None) -> dict[str, dict]:
    checks: dict[str, dict] = {}
    try:
        checks["migrations"] = await _migrations(engine, watchdog)
        checks["database"] = {"ok": True}
    except Exception as exc:  # any failure to reach the database means not ready
        checks["database"] = {"ok": False, "detail": type(exc).__name__}
        checks["migrations"] = {"ok": False}
    checks["model"] = {"ok": scorer is not None, "version": getattr(scorer, "version", None)}
    return {name: checks[name] for name in ("database", "migrations", "model")}


async def _migrations(engine: Engine, watchdog: Watchdog | None) -> dict:
    if watchdog is None:  # SQLite: a local file, read in a thread
        return await within(asyncio.to_thread(_head_check, engine), READY_SECONDS)
    watchdog.refuse_if_silent()
    # PostgreSQL: on the watchdog's own connection, so a database that does not answer holds no pooled
    # connection and no thread, however often a load balancer asks
    return migrate.compare(await watchdog.migration_heads(READY_SECONDS))


def _head_check(engine: Engine) -> dict:
    with engine.connect() as conn:
        return migrate.head_check(conn)
