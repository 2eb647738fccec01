"""/v1/webhooks: subscriptions (admin scope) and what was delivered to them."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response

from app import errors
from app.auth.dependencies import require
from app.database import ReadSession, WriteSession
from app.dependencies import SettingsDep
from app.http import Cursor, StrictJSONRoute, cursor_after, json_only
from app.webhooks import service
from app.webhooks.schemas import DeliveryPage, WebhookCreate, WebhookCreated, WebhookRead

router = APIRouter(route_class=StrictJSONRoute, prefix="/v1/webhooks", tags=["webhooks"],
                   dependencies=[Depends(require("admin"))], responses=errors.responses(*errors.COMMON))
WebhookId = Annotated[int, Path(ge=1, le=2**53, description="the subscription's id")]
NOT_FOUND = errors.responses(errors.NotFound)


@router.post("", response_model=WebhookCreated, status_code=201,
             responses=errors.responses(errors.MalformedJSON, errors.UnsupportedMediaType),
             dependencies=[Depends(json_only)])
def create_webhook(body: WebhookCreate, settings: SettingsDep, session: WriteSession) -> WebhookCreated:
    """Subscribe a URL; the answer carries the signing secret, shown this once."""
    return service.create(session, body, allow_private=settings.webhooks_allow_private)


@router.get("", response_model=list[WebhookRead])
def list_webhooks(session: ReadSession) -> list[WebhookRead]:
    """Every subscription, with whether it is failing or disabled."""
    return service.listed(session)


@router.get("/{webhook_id}", response_model=WebhookRead, responses=NOT_FOUND)
def get_webhook(webhook_id: WebhookId, session: ReadSession) -> WebhookRead:
    """One subscription."""
    return WebhookRead.model_validate(service.get(session, webhook_id))


@router.delete("/{webhook_id}", status_code=204, responses=NOT_FOUND)
def delete_webhook(webhook_id: WebhookId, session: WriteSession) -> Response:
    """Unsubscribe; pending deliveries are dropped."""
    service.delete(session, webhook_id)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryPage, responses=NOT_FOUND)
def list_deliveries(
    webhook_id: WebhookId,
    session: ReadSession,
    status: Literal["pending", "delivered", "failed"] | None = None,
    cursor: Cursor = None,
    limit: int = Query(50, ge=1, le=500),
) -> DeliveryPage:
    """Deliveries, newest first: attempts with their status codes, the next retry, why one failed."""
    items = service.deliveries(session, webhook_id, status=status, after_id=cursor_after(cursor), limit=limit)
    return DeliveryPage(items=items, next_cursor=str(items[-1].id) if len(items) == limit else None)
