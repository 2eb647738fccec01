"""POST /v1/extract: a report in, draft events (the event contract) and what could not be resolved out."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidatorFunctionWrapHandler, field_validator

from app.events.schemas import EventCreate
from app.http import utc_today

MAX_TEXT_CHARS = 100_000  # a long news report is 10-30 kB; past this it is not one report
EARLIEST_PUBLISHED_ON = date(1800, 1, 1)  # as for events: nothing is known before it


class ExtractRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(description=f"the report as plain text (UTF-8), up to {MAX_TEXT_CHARS:,} characters")
    published_on: date = Field(ge=EARLIEST_PUBLISHED_ON,
                               description="the day the report was published, 1800-01-01 to today: weekdays and "
                               "'yesterday' resolve against it")
    source: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")] = Field(
        "extract", description="the drafts' `source` (their idempotency namespace)")
    url: Annotated[str, Field(max_length=2000)] | None = Field(None, description="where the report is; kept in notes")

    @field_validator("published_on", mode="wrap")
    @classmethod
    def _not_before_1800(cls, v, handler: ValidatorFunctionWrapHandler) -> date:
        try:
            return handler(v)
        except ValidationError as exc:
            if any(e["type"] == "greater_than_equal" for e in exc.errors()):
                raise ValueError("published_on is before 1800") from None
            raise

    @field_validator("published_on")
    @classmethod
    def _not_in_future(cls, v: date) -> date:
        if v > utc_today():
            raise ValueError("published_on is in the future")
        return v


class Evidence(BaseModel):
    start: int = Field(description="character offset in `text` (Python string index)")
    end: int
    text: str
    confidence: float = Field(ge=0, le=1)


class DraftEvidence(BaseModel):
    source_event_id: str
    confidence: float = Field(ge=0, le=1, description="the lowest of its fields' confidences")
    fields: dict[str, Evidence] = Field(description="each drafted field (dotted path) with the text it came from")


class Unresolved(BaseModel):
    start: int
    end: int
    sentence: str
    reason: str


class ExtractResult(BaseModel):
    """`events` are valid event records, postable as they are: `{"items": events}` to /v1/events/batch."""

    events: list[EventCreate]
    evidence: list[DraftEvidence] = Field(description="one per event, in the same order")
    unresolved: list[Unresolved]
