"""Following the change feed for one stream: the cursor only moves forward, so no event is sent twice."""

import asyncio
import json
from collections.abc import AsyncIterator

import anyio
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.risk.models import Assessment
from app.risk import outbox as messages
from app.webhooks.schemas import Filters

PAGE = 500


def latest_id(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.coalesce(func.max(Assessment.id), 0)))


def _page(factory: sessionmaker[Session], after: int) -> tuple[list[messages.Message], bool]:
    with factory() as session:
        rows = messages.feed_rows(session, after + 1, limit=PAGE)
        return messages.build(session, rows), len(rows) == PAGE


async def follow(factory: sessionmaker[Session], after: int, filters: Filters,
                 poll_seconds: float) -> AsyncIterator[dict]:
    """SSE events for assessments after the cursor that match the filters, forever (until disconnect).

    The feed is gap-free (writers are serialised, ids follow commit order), so resuming after the
    last id a client saw is exact.
    """
    cursor = after
    while True:
        batch, more = await anyio.to_thread.run_sync(_page, factory, cursor)
        for m in batch:
            cursor = m.id
            if messages.matches(filters, m):
                yield {"id": str(m.id), "event": m.type,
                       "data": json.dumps({"type": m.type, "timestamp": m.created_at, "data": m.data},
                                          separators=(",", ":"))}
        if not more:
            await asyncio.sleep(poll_seconds)
