"""Following the change feed for one stream: the cursor only moves forward, so no event is sent twice."""

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import anyio
from sqlalchemy.orm import Session, sessionmaker

from app.observability import STREAM_EVENTS, STREAMS_OPEN
from app.storage.feed import FeedHead
from app.risk import outbox as messages
from app.webhooks.schemas import Filters

PAGE = 500


def _page(factory: sessionmaker[Session], after: int) -> tuple[list[messages.Message], bool]:
    with factory() as session:
        rows = messages.feed_rows(session, after + 1, limit=PAGE)
        return messages.build(session, rows), len(rows) == PAGE


async def follow(factory: sessionmaker[Session], head: FeedHead, after: int, filters: Filters,
                 poll_seconds: float, allowed: Callable[[], bool]) -> AsyncIterator[dict]:
    """SSE events for assessments after the cursor that match the filters, until disconnect or until
    the key no longer has the `read` scope (revoked keys leave the key ring within its refresh time).

    The feed is gap-free (ids are taken in commit order under the feed append lock), so resuming
    after the last id a client saw is exact. Each poll reads the shared feed head (one read for all
    streams and poll routes of the worker) and queries the feed only when the head is past the cursor.
    """
    cursor, more = after, False
    STREAMS_OPEN.inc()
    try:
        while allowed():
            if more or await head.read() > cursor:
                batch, more = await anyio.to_thread.run_sync(_page, factory, cursor)
                for m in batch:
                    cursor = m.id
                    if messages.matches(filters, m):
                        STREAM_EVENTS.inc()
                        yield {"id": str(m.id), "event": m.type,
                               "data": json.dumps({"type": m.type, "timestamp": m.created_at, "data": m.data},
                                                  separators=(",", ":"))}
                if more:
                    continue
            await asyncio.sleep(poll_seconds)
    finally:
        STREAMS_OPEN.dec()
