"""Typed results, matching the service's OpenAPI schemas; fields the service adds later are ignored."""

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any


def _frame(rows: list[dict[str, Any]]):
    """A pandas DataFrame of flat rows (pandas is an optional dependency: `pip install escalation-client[pandas]`)."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_dataframe() needs pandas: pip install 'escalation-client[pandas]'") from None
    frame = pd.DataFrame(rows)
    for column in ("as_of", "last_event_on", "occurred_on"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column])
    return frame


def _known(cls, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _datetime(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True, slots=True)
class Driver:
    """A theme of the explanation in words (`label`), with its signed log-odds `contribution`.

    Assessments made before explanations existed carry `feature` and `value` instead of a theme.
    """

    contribution: float
    theme: str | None = None
    label: str | None = None
    facts: list[dict[str, Any]] = field(default_factory=list)
    features: dict[str, float] = field(default_factory=dict)
    feature: str | None = None
    value: float | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Driver":
        return cls(**_known(cls, data))


@dataclass(frozen=True, slots=True)
class Explanation:
    """baseline + sum(contributions) = log(p / (1 - p)) of the probability (`unit`: log_odds)."""

    baseline: float
    contributions: dict[str, float]
    unit: str = "log_odds"

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "Explanation | None":
        return cls(**_known(cls, data)) if data else None


@dataclass(frozen=True, slots=True)
class Interval:
    """The uncertainty of a probability: low <= probability <= high, at `level` (e.g. 0.9)."""

    low: float
    high: float
    level: float

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "Interval | None":
        return cls(**_known(cls, data)) if data else None


@dataclass(frozen=True, slots=True)
class Risk:
    dyad_id: str
    members: tuple[str, str]
    kind: str
    as_of: date
    probability: float
    probabilities: dict[str, float]
    level: str
    drivers: list[Driver]
    features: dict[str, float]
    model_version: str
    last_event_on: date | None
    event_count: int
    latest_assessment_id: int | None = None
    explanation: Explanation | None = None
    interval: Interval | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Risk":
        d = _known(cls, data)
        return cls(**{**d, "members": tuple(d["members"]), "as_of": _date(d["as_of"]),
                      "interval": Interval.from_dict(d.get("interval")),
                      "drivers": [Driver.from_dict(x) for x in d.get("drivers") or []],
                      "explanation": Explanation.from_dict(d.get("explanation")),
                      "last_event_on": _date(d.get("last_event_on"))})


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """The dyad's risk on one date, from the events known now (as `risk(as_of=...)` answers it)."""

    as_of: date
    probability: float
    interval: Interval
    level: str
    last_event_on: date | None
    event_count: int
    drivers: list[Driver]  # the strongest three themes

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SeriesPoint":
        d = _known(cls, data)
        return cls(**{**d, "as_of": _date(d["as_of"]), "interval": Interval.from_dict(d["interval"]),
                      "last_event_on": _date(d.get("last_event_on")),
                      "drivers": [Driver.from_dict(x) for x in d.get("drivers") or []]})


@dataclass(frozen=True, slots=True)
class RiskSeries:
    dyad_id: str
    members: tuple[str, str]
    kind: str
    model_version: str
    step_days: int
    points: list[SeriesPoint]
    latest_assessment_id: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RiskSeries":
        d = _known(cls, data)
        return cls(**{**d, "members": tuple(d["members"]), "points": [SeriesPoint.from_dict(p) for p in d["points"]]})

    def to_dataframe(self):
        """One row per date: as_of, probability, low, high, level, last_event_on, event_count, top_driver."""
        return _frame([{"as_of": p.as_of, "probability": p.probability, "low": p.interval.low,
                        "high": p.interval.high, "level": p.level, "last_event_on": p.last_event_on,
                        "event_count": p.event_count, "top_driver": p.drivers[0].label if p.drivers else None}
                       for p in self.points])


@dataclass(frozen=True, slots=True)
class Assessment:
    id: int
    dyad_id: str
    as_of: date
    probability: float
    probabilities: dict[str, float]
    level: str
    drivers: list[Driver]
    model_version: str
    reason: str
    event_count: int
    created_at: datetime
    trigger_event_id: int | None = None
    last_event_on: date | None = None
    features: dict[str, float] | None = None
    explanation: Explanation | None = None
    interval: Interval | None = None  # None on assessments made before intervals existed

    @property
    def cursor(self) -> str:
        """Store this to resume `watch` / `assessments` after this assessment."""
        return str(self.id)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Assessment":
        d = _known(cls, data)
        return cls(**{**d, "as_of": _date(d["as_of"]), "created_at": _datetime(d["created_at"]),
                      "interval": Interval.from_dict(d.get("interval")),
                      "drivers": [Driver.from_dict(x) for x in d.get("drivers") or []],
                      "explanation": Explanation.from_dict(d.get("explanation")),
                      "last_event_on": _date(d.get("last_event_on"))})


@dataclass(frozen=True, slots=True)
class AssessmentPage:
    items: list[Assessment]
    next_cursor: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AssessmentPage":
        return cls([Assessment.from_dict(x) for x in data["items"]], data["next_cursor"])

    def to_dataframe(self):
        return assessments_frame(self.items)


def assessments_frame(items: list[Assessment]):
    """One row per assessment: id, dyad_id, as_of, probability, low, high, level, reason, model_version,
    event_count, created_at (a page's `items`, or what `watch` yielded)."""
    return _frame([{"id": a.id, "dyad_id": a.dyad_id, "as_of": a.as_of, "probability": a.probability,
                    "low": a.interval.low if a.interval else None, "high": a.interval.high if a.interval else None,
                    "level": a.level, "reason": a.reason, "model_version": a.model_version,
                    "event_count": a.event_count, "created_at": a.created_at} for a in items])


def dyads_frame(dyads: list["Dyad"]):
    """One row per dyad (what `dyads()` returns): id, member_a, member_b, kind, probability, low, high, level,
    last_event_on."""
    return _frame([{"id": d.id, "member_a": d.members[0], "member_b": d.members[1], "kind": d.kind,
                    "probability": d.current.probability if d.current else None,
                    "low": d.current.interval.low if d.current and d.current.interval else None,
                    "high": d.current.interval.high if d.current and d.current.interval else None,
                    "level": d.current.level if d.current else None,
                    "last_event_on": d.current.last_event_on if d.current else None} for d in dyads])


@dataclass(frozen=True, slots=True)
class Dyad:
    id: str
    members: tuple[str, str]
    kind: str
    current: Risk | None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Dyad":
        current = data.get("current")
        return cls(data["id"], tuple(data["members"]), data["kind"], Risk.from_dict(current) if current else None)


@dataclass(frozen=True, slots=True)
class ItemResult:
    index: int  # in the list given to post_events, across all the batches it was split into
    id: int
    status: str  # created | unchanged | revised


@dataclass(slots=True)
class BatchResult:
    created: int = 0
    revised: int = 0
    unchanged: int = 0
    items: list[ItemResult] = field(default_factory=list)

    def add(self, data: dict[str, Any], offset: int) -> None:
        self.created += data["created"]
        self.revised += data["revised"]
        self.unchanged += data["unchanged"]
        self.items.extend(ItemResult(r["index"] + offset, r["id"], r["status"]) for r in data["items"])


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted or was acted on. `kind`: state (needs `country`), non_state or civilians."""

    name: str
    kind: str = "state"
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Location:
    country: str  # ISO3
    admin1: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """An event in the service's contract (`GET /v1/vocabulary` for actions and weapons), for `post_events` and
    `what_if` besides plain dicts. Fields left None are not sent."""

    source: str
    source_event_id: str
    occurred_on: date | str
    actor1: Actor
    location: Location
    action: str | None = None
    actor2: Actor | None = None
    fatalities: int | None = None
    civilian_fatalities: int | None = None
    weapons: list[str] = field(default_factory=list)
    retaliation: bool = False
    responds_to: int | str | None = None  # the answered event's id, or its source_event_id in the same source
    event_type: str | None = None  # or an ACLED pair instead of `action`
    sub_event_type: str | None = None
    cameo_code: str | None = None  # or a CAMEO code
    injured: int | None = None
    notes: str | None = None

    def to_dict(self) -> dict[str, Any]:
        def clean(value: Any) -> Any:
            if isinstance(value, (Actor, Location, Event)):
                return {f: clean(v) for f in value.__slots__ if (v := getattr(value, f)) is not None}
            return str(value) if isinstance(value, date) else value

        return clean(self)


def as_dicts(events: list["Event | dict[str, Any]"]) -> list[dict[str, Any]]:
    return [e.to_dict() if isinstance(e, Event) else e for e in events]
