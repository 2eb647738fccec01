"""Webhook subscriptions, filters (shared with /v1/stream) and deliveries as the API shows them."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.countries import CODES, is_iso3
from app.events import members
from app.ml.levels import Level

EventType = Literal["assessment.created", "risk.level_changed"]


class Filters(BaseModel):
    """Which assessments a subscriber is told about; every filter given must match."""

    model_config = ConfigDict(extra="forbid")

    dyads: list[str] | None = Field(None, max_length=1000, description="dyad ids, e.g. IRN--PAK", json_schema_extra={
        "items": {"type": "string", "pattern": members.DYAD_PATTERN}})
    countries: list[str] | None = Field(None, max_length=300, description="ISO3 codes; a dyad matches if a member is one",
                                        json_schema_extra={"items": {"type": "string", "enum": CODES}})
    min_level: Level | None = Field(None, description="only assessments at this level or above")
    level_changes_only: bool = Field(False, strict=True, description="only `risk.level_changed`: the level differs from the "
                                     "dyad's previous assessment (a dyad's first assessment counts)")

    @field_validator("dyads")
    @classmethod
    def _dyads(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        out = []
        for dyad in value:
            parts = dyad.strip().split(members.SEPARATOR)
            if len(parts) != 2 or not all(parts):
                raise ValueError(f"not a dyad id (two member ids joined by '--'): {dyad!r}")
            out.append(members.dyad_id(*(members.normalise(p) for p in parts)))
        return out

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        codes = [c.strip().upper() for c in value]
        unknown = [c for c in codes if not is_iso3(c)]
        if unknown:
            raise ValueError(f"unknown ISO 3166-1 alpha-3 country codes: {', '.join(unknown)}")
        return codes


# What JSON Schema can say of a webhook URL: http(s), ASCII, a host name (or IPv4 address) without credentials, a
# port that exists (an IPv6 literal is accepted too, but left out here: its pattern would be longer than useful).
# That its host resolves, and only to public addresses, is checked when it is created (app.webhooks.guard).
_PORT = "(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
URL_PATTERN = rf"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?(?::{_PORT})?(?:[/?#][!-~]*)?$"


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000, description="http(s) URL resolving to public addresses",
                     json_schema_extra={"pattern": URL_PATTERN})
    filters: Filters = Field(default_factory=Filters)


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    filters: Filters
    created_at: datetime
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None


class WebhookCreated(WebhookRead):
    secret: str = Field(description="whsec_ + base64 signing key; shown once, store it now")


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    worker: str = Field(description="host:pid of the server process that made the attempt")
    started_at: datetime
    finished_at: datetime | None
    status_code: int | None
    error: str | None


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    message_id: str = Field(description="the webhook-id header, the same on every attempt")
    event_type: EventType
    assessment_id: int
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None = Field(description="the next retry, while pending")
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    history: list[AttemptRead]


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    next_cursor: str | None
