"""What the dashboard's views draw, in a few fields each: a ranking of 1,000 dyads stays small, and a dyad's
workbench comes in one answer."""

from datetime import date

from pydantic import BaseModel, Field

from app.ml.levels import Level
from app.risk.schemas import RiskRead, RiskSeries


class DataRange(BaseModel):
    first: date | None = Field(description="the earliest live event stored (None: no events)")
    last: date | None


class RankingRow(BaseModel):
    id: str
    members: tuple[str, str]
    kind: str
    level: Level
    probability: float
    low: float  # the probability's interval (GET /v1/risk: interval)
    high: float
    last_event_on: date | None
    event_count: int


class Ranking(BaseModel):
    as_of: date
    items: list[RankingRow]
    truncated: bool
    total: int = Field(description="dyads with an event by `as_of`, before the level filter")
    levels: dict[Level, int] = Field(description="how many of them are at each level")
    names: dict[str, str] = Field(description="a readable name per member id shown")
    data: DataRange


class StoredMark(BaseModel):
    id: int
    as_of: date
    probability: float
    level: Level
    reason: str


class EventRow(BaseModel):
    id: int
    occurred_on: date
    action: str
    hostility: int
    retaliation: bool
    by: str
    against: str | None
    where: str
    country: str = Field(description="ISO3 of where it happened")
    fatalities: int | None
    notes: str | None


class DayMark(BaseModel):
    on: date
    events: int
    fatalities: int
    hostility: int = Field(description="the most hostile act that day (1-5)")


class DyadView(BaseModel):
    id: str
    members: tuple[str, str]
    kind: str
    names: dict[str, str]
    as_of: date
    current: RiskRead
    series: RiskSeries = Field(description="the risk through time up to `as_of`, from the events known now")
    stored: list[StoredMark] = Field(description="what the service said at the time, up to `as_of`")
    marks: list[DayMark] = Field(description="each day with live events up to `as_of`: the chart's event marks")
    events: list[EventRow] = Field(description="live events up to `as_of`, newest first (at most 1,000)")
    events_truncated: bool
    data: DataRange


class CountryRow(RankingRow):
    spark: list[float] = Field(description="the probability on each of the view's `spark_dates`")


class CountryView(BaseModel):
    country: str
    name: str
    as_of: date
    items: list[CountryRow]
    spark_dates: list[date]
    names: dict[str, str]
    data: DataRange
