"""Readiness checks."""

from sqlalchemy.engine import Engine

from app import migrate


def readiness(engine: Engine, scorer) -> dict[str, dict]:
    checks: dict[str, dict] = {}
    try:
        with engine.connect() as conn:
            migrations = migrate.head_check(conn)
        checks["database"] = {"ok": True}
        checks["migrations"] = migrations
    except Exception as exc:  # any failure to reach the database means not ready
        checks["database"] = {"ok": False, "detail": type(exc).__name__}
        checks["migrations"] = {"ok": False}
    checks["model"] = {"ok": scorer is not None, "version": getattr(scorer, "version", None)}
    return checks
