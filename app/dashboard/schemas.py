"""The ranking as the dashboard's table needs it: a few fields per dyad, so 1,000 dyads stay small."""

from datetime import date

from pydantic import BaseModel

from app.ml.levels import Level


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
    items: list[RankingRow]
    truncated: bool
