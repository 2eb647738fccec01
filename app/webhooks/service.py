"""Subscriptions and their deliveries (the outbox itself is written by app.risk.outbox, with the assessments)."""

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import errors
from app.webhooks import guard, signing
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.webhooks.schemas import AttemptRead, DeliveryRead, WebhookCreate, WebhookCreated, WebhookRead


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

