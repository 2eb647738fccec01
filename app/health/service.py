"""Readiness checks, answered within READY_SECONDS whether or not the database answers."""

import asyncio

from sqlalchemy.engine import Engine

from app import migrate
from app.watchdog import SILENT, Watchdog, within

READY_SECONDS = 1.5  # a load balancer's probe waits ~2 s: "not ready" must come before it gives up


async def readiness(engine: Engine, scorer, watchdog: Watchdog | None) -> dict[str, dict]:
    checks: dict[str, dict] = {}
    try:
        if watchdog is not None and watchdog.silent:
            raise ConnectionError(SILENT)
        # In a thread of its own: one the database leaves hanging is the watchdog's to end, not this answer's.
        migrations = await within(asyncio.to_thread(_head_check, engine), READY_SECONDS)
        checks["database"] = {"ok": True}
        checks["migrations"] = migrations
    except Exception as exc:  # any failure to reach the database means not ready
        checks["database"] = {"ok": False, "detail": type(exc).__name__}
        checks["migrations"] = {"ok": False}
    checks["model"] = {"ok": scorer is not None, "version": getattr(scorer, "version", None)}
    return checks


def _head_check(engine: Engine) -> dict:
    with engine.connect() as conn:
        return migrate.head_check(conn)
