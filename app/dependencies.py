"""Typed dependencies for the objects the lifespan builds once (see `app.main`); tests override them.

`app.database` hands out sessions and `app.auth.dependencies` the key ring; this module the rest.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.events.history import WindowCache
from app.ml.scorer import Scorer
from app.risk.cache import PollAnswers, RiskCache
from app.storage.feed import FeedHead
from app.storage.watchdog import Watchdog

# async: a plain attribute read needs no worker thread, which FastAPI would spend on a sync dependency.

async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine


async def get_watchdog(request: Request) -> Watchdog | None:
    """The database watchdog (PostgreSQL), or None (SQLite)."""
    return request.app.state.watchdog


async def get_feed_head(request: Request) -> FeedHead:
    return request.app.state.feed_head


async def get_read_sessions(request: Request) -> sessionmaker[Session]:
    """The read-session factory, for work that outlives a request's own session (a stream)."""
    return request.app.state.sessionmaker


async def get_scorer(request: Request) -> Scorer:
    return request.app.state.scorer


async def get_risk_cache(request: Request) -> RiskCache:
    return request.app.state.risk_cache


async def get_window_cache(request: Request) -> WindowCache:
    return request.app.state.window_cache


@dataclass(frozen=True)
class Polling:
    """What the poll routes use, as one dependency: each dependency costs FastAPI work on every poll."""

    scorer: Scorer
    cache: RiskCache  # computed risk answers
    answers: RiskCache  # serialised poll answers, each with the feed head it is valid at
    head: FeedHead
    sessions: sessionmaker[Session]  # opened in a worker thread, only on a cache miss


UNCACHED = "escalation.uncached"  # a scope key: the guard's check mode routes a poll past every cache (app.guards)


async def get_polling(request: Request) -> Polling:
    state = request.app.state
    if request.scope.get(UNCACHED):  # the slow path: empty caches of its own, so the route computes the answer
        return Polling(state.scorer, RiskCache(), PollAnswers(), state.feed_head, state.sessionmaker)
    return Polling(state.scorer, state.risk_cache, state.answers, state.feed_head, state.sessionmaker)


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
ReadSessionsDep = Annotated[sessionmaker[Session], Depends(get_read_sessions)]
FeedHeadDep = Annotated[FeedHead, Depends(get_feed_head)]
ScorerDep = Annotated[Scorer, Depends(get_scorer)]
RiskCacheDep = Annotated[RiskCache, Depends(get_risk_cache)]
WindowCacheDep = Annotated[WindowCache, Depends(get_window_cache)]
WatchdogDep = Annotated[Watchdog | None, Depends(get_watchdog)]
PollingDep = Annotated[Polling, Depends(get_polling)]
