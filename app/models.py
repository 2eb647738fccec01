"""Every ORM model, imported in one place so Alembic and tests see the whole metadata."""

from app.auth.models import ApiKey
from app.database import Base
from app.events.models import Dyad, Event, EventDyad, EventRevision
from app.risk.models import Assessment, DyadRisk
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

metadata = Base.metadata

__all__ = ["ApiKey", "Assessment", "Dyad", "DyadRisk", "Event", "EventDyad", "EventRevision", "WebhookAttempt",
           "WebhookDelivery", "WebhookEndpoint", "metadata"]
