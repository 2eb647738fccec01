"""Shapes of risk answers: current risk, assessments, dyads, the feed."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.ml.levels import LEVELS


class DriverRead(BaseModel):
    feature: str
    value: float
    contribution: float = Field(description="signed change in the primary target's probability (see /v1/model)")


class RiskRead(BaseModel):
    dyad_id: str
    members: tuple[str, str]
    kind: str
    as_of: date
    probability: float = Field(description="probability of the primary target (escalation within 30 days)")
    probabilities: dict[str, float]
    level: str = Field(description=" | ".join(LEVELS) + "; thresholds in /v1/model")
    drivers: list[DriverRead]
    features: dict[str, float] = Field(description="every model input for this dyad and date (see /v1/model)")
    model_version: str
    last_event_on: date | None = Field(description="date of the last event that informed this score")
    event_count: int
    latest_assessment_id: int | None


class AssessmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    dyad_id: str
    as_of: date
    probability: float
    probabilities: dict[str, float]
    level: str
    drivers: list[DriverRead]
    features: dict[str, float] | None
    model_version: str
    trigger_event_id: int | None
    reason: str
    last_event_on: date | None
    event_count: int
    created_at: datetime


class AssessmentPage(BaseModel):
    items: list[AssessmentRead]
    next_cursor: str = Field(description="pass as `after` on the next poll; unchanged when nothing is new")


class DyadRead(BaseModel):
    id: str
    members: tuple[str, str]
    kind: str
    current: RiskRead | None = Field(description="risk as of today; null for a dyad never assessed")


class DyadPage(BaseModel):
    items: list[DyadRead]
    next_cursor: str | None
