"""Subscriptions and the outbox: deliveries are written in the transaction of the assessments they report."""

import uuid
from collections.abc import Sequence
from datetime import datetime, timezone

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app import errors
from app.webhooks import guard, messages, signing
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.webhooks.schemas import (AttemptRead, DeliveryRead, Filters, WebhookCreate, WebhookCreated,
                                  WebhookRead)


def create(session: Session, body: WebhookCreate, *, allow_private: bool) -> WebhookCreated:
    try:
        guard.check(body.url, allow_private)
    except guard.Refused as exc:
        raise errors.InvalidInput(str(exc), field="url") from None
    endpoint = WebhookEndpoint(url=body.url, secret=signing.new_secret(),
                               filters=body.filters.model_dump(mode="json", exclude_defaults=True),
                               created_at=datetime.now(timezone.utc))
    session.add(endpoint)
    session.flush()
    return WebhookCreated(**WebhookRead.model_validate(endpoint).model_dump(), secret=endpoint.secret)


def listed(session: Session) -> list[WebhookRead]:
    return [WebhookRead.model_validate(e) for e in session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))]


def get(session: Session, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise errors.NotFound(f"no webhook {endpoint_id}", field="webhook_id")
    return endpoint


def delete(session: Session, endpoint_id: int) -> None:
    session.delete(get(session, endpoint_id))
    session.flush()


def deliveries(session: Session, endpoint_id: int, *, status: str | None, after_id: int,
               limit: int) -> list[DeliveryRead]:
    """An endpoint's deliveries, newest first, each with its attempts."""
    get(session, endpoint_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    if after_id:
        stmt = stmt.where(WebhookDelivery.id < after_id)
    rows = list(session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit)))
    attempts: dict[int, list[AttemptRead]] = {r.id: [] for r in rows}
    if rows:
        for a in session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(attempts))
                                 .order_by(WebhookAttempt.number)):
            attempts[a.delivery_id].append(AttemptRead.model_validate(a))
    return [DeliveryRead.model_validate({**_columns(r), "history": attempts[r.id]}) for r in rows]


def _columns(row: WebhookDelivery) -> dict:
    return {c.key: getattr(row, c.key) for c in WebhookDelivery.__table__.columns}


def enqueue(session: Session, assessment_ids: Sequence[int]) -> int:
    """Write one delivery per matching (assessment, active endpoint) in the caller's transaction: the outbox."""
    if not assessment_ids:
        return 0
    endpoints = list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.disabled_at.is_(None))))
    if not endpoints:
        return 0
    wanted = set(assessment_ids)
    rows = [r for r in messages.feed_rows(session, min(wanted), max(wanted)) if r.id in wanted]
    now = datetime.now(timezone.utc)
    filters = [(e.id, Filters.model_validate(e.filters)) for e in endpoints]
    values = [
        {"endpoint_id": endpoint_id, "message_id": f"msg_{uuid.uuid4().hex}", "event_type": m.type,
         "assessment_id": m.id, "body": m.body(), "status": "pending", "attempts": 0, "next_attempt_at": now,
         "created_at": now}
        for m in messages.build(session, rows) for endpoint_id, f in filters if messages.matches(f, m)
    ]
    if values:
        session.execute(insert(WebhookDelivery.__table__), values)
    return len(values)
