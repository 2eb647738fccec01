"""Readiness checks."""

from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from app import migrate


def readiness(engine: Engine, scorer) -> dict[str, dict]:
    checks: dict[str, dict] = {}
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
        checks["database"] = {"ok": True}
        head = set(migrate.heads())
        checks["migrations"] = {"ok": current == head, "current": sorted(current), "head": sorted(head)}
    except Exception as exc:  # any failure to reach the database means not ready
        checks["database"] = {"ok": False, "detail": type(exc).__name__}
        checks["migrations"] = {"ok": False}
    checks["model"] = {"ok": scorer is not None, "version": getattr(scorer, "version", None)}
    return checks
