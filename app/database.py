"""The per-request sessions (one per request, committed in one place); the engine, metadata and column types are
the storage layer's (app.storage.engine), named here too for the modules that build on them."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from app.memory import release_free_memory
from app.storage.engine import (CONNECT_DEFAULTS, POOL_WAIT, Base, BigId, UTCDateTime, is_postgres, make_engine,  # noqa: F401
                                make_sessionmaker)


def _session(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def get_session(request: Request) -> Iterator[Session]:
    """One read session per request."""
    yield from _session(request.app.state.sessionmaker)


def get_write_session(request: Request) -> Iterator[Session]:
    """One write session per request: committed when the route returns, rolled back if it raises.
    Then the heap's free pages go back to the OS (app.memory: throttled, in this worker thread)."""
    try:
        yield from _session(request.app.state.write_sessionmaker)
    finally:
        release_free_memory()


# scope="function": the commit runs before the response is sent, so a failed commit is never
# acknowledged to the client as a success.
ReadSession = Annotated[Session, Depends(get_session, scope="function")]
WriteSession = Annotated[Session, Depends(get_write_session, scope="function")]
