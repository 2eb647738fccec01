"""Liveness and readiness probes."""

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.auth.dependencies import KeyRingDep, authenticated
from app.dependencies import EngineDep, ScorerDep, WatchdogDep
from app.health import service

router = APIRouter(prefix="/health", tags=["health"])


class Live(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, dict] | None = Field(None, description="database, migrations and model, each with `ok`: "
                                           "given to a caller with a key (or when the service has none)")


@router.get("/live", response_model=Live)
async def live() -> dict:
    """The process is up; answered on the event loop, so it never waits for a worker thread or the database."""
    return {"status": "ok"}


@router.get("/ready", response_model=Ready, responses={503: {"model": Ready, "description": "database "
                                                          "unreachable or migrations not at head"}})
async def ready(request: Request, engine: EngineDep, scorer: ScorerDep, ring: KeyRingDep,
                watchdog: WatchdogDep) -> JSONResponse:
    """The database answers, its schema is at the migrations' head, and a model is loaded (checks: with a key).
    Answered within 2 s either way."""
    checks = await service.readiness(engine, scorer, watchdog)
    ok = all(c["ok"] for c in checks.values())
    body: dict = {"status": "ok" if ok else "unavailable"}
    if ring.open or authenticated(request):
        body["checks"] = checks  # versions and revisions are for operators, not for anyone who asks
    return JSONResponse(body, status_code=200 if ok else 503)
