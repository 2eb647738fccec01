"""Liveness and readiness probes."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.dependencies import EngineDep, ScorerDep
from app.health import service

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
def live() -> dict:
    """The process is up."""
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "database unreachable or migrations not at head"}})
def ready(engine: EngineDep, scorer: ScorerDep) -> JSONResponse:
    """The database answers, its schema is at the migrations' head, and a model is loaded."""
    checks = service.readiness(engine, scorer)
    ok = all(c["ok"] for c in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)
