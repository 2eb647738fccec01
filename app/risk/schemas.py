"""Shapes of risk answers: current risk, assessments, dyads, the feed."""

from datetime import date, datetime

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.events import members as member_ids
from app.events.schemas import ISO_DATE, EventCreate, NoNul, Strict
from app.http import DATE_PATTERN, utc_today
from app.ml.levels import Level
from app.ml.scorer import Score, Scorer

SERIES_DRIVERS = 3  # themes per point of a series: what a tooltip can show
SERIES_DEFAULT_DAYS = 365  # a series' default span, ending at `to`


class DriverRead(BaseModel):
    theme: str = Field(description="retaliation | casualties | tempo | severity | deescalation | contagion | structural")
    contribution: float = Field(description="signed log-odds contribution of the theme's features (sum of "
                                "explanation.contributions over them); positive raises the risk")
    label: str = Field(description="the facts in plain language, and whether they raise or lower the risk")
    facts: list[dict] = Field(description="the events or context behind the label (contagion: the other fronts, "
                              "{dyad_id, deaths})")
    features: dict[str, float] = Field(description="the theme's model inputs")


class Explanation(BaseModel):
    unit: str = Field("log_odds", description="baseline + sum(contributions) = log(p / (1 - p)) of `probability`")
    baseline: float
    contributions: dict[str, float]


class Interval(BaseModel):
    low: float = Field(description="lower end; low <= probability <= high")
    high: float = Field(description="upper end")
    level: float = Field(description="the share of the model's bootstrap draws inside [low, high], e.g. 0.9 "
                         "(how the model card checks it: GET /v1/model, metrics.*.intervals)")


class RiskRead(BaseModel):
    dyad_id: str
    members: tuple[str, str]
    kind: str
    as_of: date
    probability: float = Field(description="probability of the primary target (serious_violence_30d: at least "
                               "25 deaths between the two within 30 days)")
    interval: Interval = Field(description="the uncertainty of `probability`: how far it moves when the model is "
                               "refitted on other samples of the training dyads")
    probabilities: dict[str, float]
    level: Level = Field(description="thresholds in /v1/model")
    drivers: list[DriverRead]
    explanation: Explanation
    features: dict[str, float] = Field(description="every model input for this dyad and date (see /v1/model)")
    model_version: str
    last_event_on: date | None = Field(description="date of the last event that informed this score")
    event_count: int
    latest_assessment_id: int | None

    @classmethod
    def of(cls, score: "Score", scorer: "Scorer", *, dyad_id: str, members: tuple[str, str], kind: str, as_of: date,
           last_event_on: date | None, event_count: int, marker: int | None) -> "RiskRead":
        """The answer for one scored dyad: the one place a score becomes a risk answer (current risk, what-if)."""
        # Validated, not model_construct: pydantic-core's checks cost less than model_construct of the answer and
        # its nested models did (bench/RESULTS.md).
        return cls(
            dyad_id=dyad_id, members=members, kind=kind, as_of=as_of, probability=score.probabilities[scorer.primary],
            interval=score.interval, probabilities=score.probabilities, level=score.level, drivers=score.drivers,
            explanation=score.explanation, features=score.features, model_version=scorer.version,
            last_event_on=last_event_on, event_count=event_count, latest_assessment_id=marker)


class DriverBrief(BaseModel):
    theme: str
    contribution: float = Field(description="signed log-odds contribution of the theme (as in a risk answer's drivers)")
    label: str


class SeriesPoint(BaseModel):
    as_of: date
    probability: float
    interval: Interval
    level: Level
    last_event_on: date | None
    event_count: int
    drivers: list[DriverBrief] = Field(description=f"the {SERIES_DRIVERS} strongest themes, strongest first")

    @classmethod
    def of(cls, score: "Score", scorer: "Scorer", as_of: date, last_event_on: date | None,
           event_count: int) -> "SeriesPoint":
        return cls(as_of=as_of, probability=score.probabilities[scorer.primary], interval=score.interval,
                   level=score.level, last_event_on=last_event_on, event_count=event_count,
                   drivers=[{"theme": d["theme"], "contribution": d["contribution"], "label": d["label"]}
                            for d in score.drivers[:SERIES_DRIVERS]])


class RiskSeries(BaseModel):
    dyad_id: str
    members: tuple[str, str]
    kind: str
    model_version: str
    step_days: int
    points: list[SeriesPoint] = Field(description="one per date from `from` by `step` days, and `to`; each the "
                                      "answer GET /v1/risk?as_of= gives for that date from the events known now")
    latest_assessment_id: int | None


class AssessmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    dyad_id: str
    as_of: date
    probability: float
    interval: Interval | None = Field(description="null on assessments made before intervals existed")
    probabilities: dict[str, float]
    level: Level
    drivers: list[DriverRead] | list[dict]
    explanation: Explanation | None = Field(description="null on assessments made before explanations existed")
    features: dict[str, float] | None
    model_version: str
    trigger_event_id: int | None
    reason: str = Field(description="why it was made: created, revised or retracted (the trigger event's change), "
                        "relinked (`escalation rederive`), backdated (a change behind the dyad's stored answer), "
                        "contagion (an event of another dyad of a member, within the 30 days before as_of)")
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


EARLIEST_AS_OF = date(1800, 1, 1)  # as for events: nothing is known before it


def as_of_problem(value: date, today: date) -> str | None:
    """Why an as-of date cannot be answered, or None: a risk needs a date between 1800 and today."""
    if value < EARLIEST_AS_OF:
        return f"as_of must be on or after {EARLIEST_AS_OF.isoformat()}"
    if value > today:
        return f"as_of must not be after today ({today.isoformat()}, UTC): the model scores what is known"
    return None


def _iso_date(value):
    """As for events: an extended ISO 8601 date string only (a bare number would be read as a Unix time)."""
    if value is None or isinstance(value, date):
        day = value
    elif isinstance(value, str) and ISO_DATE.fullmatch(value):
        day = date.fromisoformat(value)
    else:
        raise ValueError("expected an ISO 8601 date (YYYY-MM-DD)")
    if day is not None and (problem := as_of_problem(day, utc_today())):
        raise ValueError(problem)
    return day


DyadId = Annotated[str, Path(description="a dyad id, e.g. IRN--PAK",
                            json_schema_extra={"pattern": member_ids.DYAD_PATTERN})]
MEMBER = {"pattern": f"^{member_ids.PATTERN}$"}  # in the OpenAPI document; spaces and case are forgiven
MemberRef = Annotated[str, Field(min_length=3, max_length=100, json_schema_extra=MEMBER), NoNul]


def _series_date(value):
    try:
        return _iso_date(value)
    except ValueError as exc:  # the field is named beside the message: "from", "to"
        raise ValueError(str(exc).replace("as_of must", "the date must")) from None


SeriesDate = Annotated[date | None, BeforeValidator(_series_date),
                       Field(json_schema_extra={"pattern": f"^{DATE_PATTERN}$"})]


class WhatIfRequest(Strict):
    a: MemberRef = Field(description="a member id: ISO3 for a state, e.g. PAK")
    b: MemberRef = Field(description="the other member id, e.g. IRN")
    as_of: Annotated[date | None, BeforeValidator(_iso_date)] = Field(
        None, description="default: the day of the last hypothetical event",
        json_schema_extra={"pattern": f"^{DATE_PATTERN}$"})
    events: list[EventCreate] = Field(min_length=1, max_length=100,
                                      description="hypothetical events (the event contract); each must affect a-b")


class WhatIfSeriesRequest(Strict):
    a: MemberRef = Field(description="a member id: ISO3 for a state, e.g. PAK")
    b: MemberRef = Field(description="the other member id, e.g. IRN")
    start: SeriesDate = Field(None, alias="from", description="first date (default: a year before `to`)")
    end: SeriesDate = Field(None, alias="to", description="last date (default: today, UTC)")
    step: int = Field(7, ge=1, le=366, description="days between dates (7: weekly)")
    events: list[EventCreate] = Field(min_length=1, max_length=100,
                                      description="hypothetical events (the event contract); each must affect a-b")


class Threshold(BaseModel):
    model_config = ConfigDict(extra="allow")

    cut: float = Field(description="a probability at or above this is at least this level")
    validation_precision: float | None = None
    validation_support: int | None = None


class ModelCard(BaseModel):
    """The loaded model's card. The fields named here are stable; the card carries more (metrics per test set,
    baselines, the backtest, findings, calibration and interval checks), described in docs/scoring.md."""

    model_config = ConfigDict(extra="allow")

    version: str
    name: str
    primary: str = Field(description="the target `probability` answers for")
    targets: list[str]
    target_definitions: dict[str, str]
    features: list[str]
    thresholds: dict[str, Threshold]
    metrics: dict[str, dict]
    trained_on: str
    cutoff: str = Field(description="nothing dated after this fitted, calibrated or chose settings")
