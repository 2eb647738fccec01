"""What an assessment tells subscribers, and the outbox: webhook deliveries written with the assessments.

An assessment becomes one message, `risk.level_changed` when its level differs from the dyad's
previous assessment (a dyad's first counts), else `assessment.created`. Webhook deliveries and
/v1/stream share this, so both say the same thing about the same assessment.
"""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Row, func, insert, select
from sqlalchemy.orm import Session

from app import tracing
from app.events import members
from app.ml.levels import LEVELS
from app.risk.models import PUBLISHED, Assessment
from app.risk.schemas import AssessmentRead
from app.storage import locks
from app.webhooks.models import WebhookDelivery
from app.webhooks.schemas import Filters


@dataclass(frozen=True, slots=True)
class Message:
    id: int  # the assessment's id, its feed cursor
    type: str
    dyad_id: str
    level: str
    previous_level: str | None
    data: dict
    created_at: str

    def body(self) -> str:
        return json.dumps({"type": self.type, "timestamp": self.created_at, "data": self.data},
                          separators=(",", ":"), ensure_ascii=False)


def build(session: Session, rows: Sequence[Row]) -> list[Message]:
    """Messages for assessment rows in id order; the level change is against the dyad's previous assessment."""
    if not rows:
        return []
    dyads = {r.dyad_id for r in rows}
    before = min(r.id for r in rows)
    newest = (select(func.max(Assessment.id)).where(Assessment.dyad_id.in_(dyads), Assessment.id < before)
              .group_by(Assessment.dyad_id))
    previous: dict[str, str | None] = dict(session.execute(
        select(Assessment.dyad_id, Assessment.level).where(Assessment.id.in_(newest))).all())
    out = []
    for row in sorted(rows, key=lambda r: r.id):
        read = AssessmentRead.model_validate(row._mapping)
        prev = previous.get(row.dyad_id)
        data = read.model_dump(mode="json")
        kind = "assessment.created"
        if prev != row.level:
            kind = "risk.level_changed"
            data["previous_level"] = prev
        previous[row.dyad_id] = row.level
        out.append(Message(row.id, kind, row.dyad_id, row.level, prev, data, data["created_at"]))
    return out


def _countries(dyad_id: str) -> set[str]:
    return {c for c in map(members.member_country, members.dyad_members(dyad_id)) if c}


def matches(filters: Filters, message: Message) -> bool:
    if filters.level_changes_only and message.type != "risk.level_changed":
        return False
    if filters.dyads is not None and message.dyad_id not in filters.dyads:
        return False
    if filters.countries is not None and not _countries(message.dyad_id) & set(filters.countries):
        return False
    if filters.min_level is not None:
        floor = LEVELS.index(filters.min_level)
        # A fall from above the floor to below it is news to a subscriber who watches the floor.
        levels = [message.level] + ([message.previous_level] if message.type == "risk.level_changed"
                                    and message.previous_level else [])
        if max(LEVELS.index(lv) for lv in levels) < floor:
            return False
    return True


def feed_rows(session: Session, first: int, last: int | None = None, limit: int | None = None) -> list[Row]:
    """Assessment rows with ids in [first, last], in id order."""
    table = Assessment.__table__
    stmt = select(*PUBLISHED).where(table.c.id >= first)
    if last is not None:
        stmt = stmt.where(table.c.id <= last)
    stmt = stmt.order_by(table.c.id)
    return list(session.connection().execute(stmt.limit(limit) if limit else stmt))


def enqueue(session: Session, assessment_ids: Sequence[int]) -> int:
    """One delivery per matching (assessment, active endpoint), in the caller's transaction: the outbox."""
    if not assessment_ids:
        return 0
    endpoints = locks.active_endpoints(session)  # locked until commit (app.storage.locks)
    if not endpoints:
        return 0
    wanted = set(assessment_ids)
    rows = [r for r in feed_rows(session, min(wanted), max(wanted)) if r.id in wanted]
    now = datetime.now(timezone.utc)
    parent = tracing.traceparent()  # the write's trace, which each attempt joins (with tracing on)
    filters = [(e.id, Filters.model_validate(e.filters)) for e in endpoints]
    values = [
        {"endpoint_id": endpoint_id, "message_id": f"msg_{uuid.uuid4().hex}", "event_type": m.type,
         "assessment_id": m.id, "body": m.body(), "status": "pending", "attempts": 0, "next_attempt_at": now,
         "created_at": now, "traceparent": parent}
        for m in build(session, rows) for endpoint_id, f in filters if matches(f, m)
    ]
    if values:
        session.execute(insert(WebhookDelivery.__table__), values)
    return len(values)
