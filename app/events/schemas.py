"""The event contract (JSON, snake_case) and the shapes the API returns."""

import re
import unicodedata
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Annotated

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator,
                      model_validator)
from pydantic_core import core_schema

from app.countries import CODES, is_iso3
from app.errors import ContractError
from app.events import vocabulary
from app.http import DATE_PATTERN

MAX_ID = 2**53 - 1  # ids are BIGINT; no more than a JSON number holds exactly in every client (JavaScript's too)
CLOCK_SKEW = timedelta(minutes=5)  # a datetime this far ahead of the server's clock is still accepted


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and no real name or note needs one.
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value


class _NoNul:
    """On every free-text field of a request (after its length limits, which pydantic checks natively): NUL is
    refused where it is, as that field's error, and the OpenAPI document says so (`blank=False`: and that the
    field is more than spaces, which are stripped before its minimum length is checked). Fields checked against
    a closed list (countries, actions, weapons) or a pattern refuse NUL anyway, and their pattern is the one the
    document shows. tests/events/test_bad_input.py tries every string field."""

    def __init__(self, blank: bool):
        self.pattern = "^[^\\x00]*$" if blank else "^[^\\x00]*[^\\s\\x00][^\\x00]*$"

    def __get_pydantic_core_schema__(self, source, handler):
        return core_schema.no_info_after_validator_function(_no_nul, handler(source))

    def __get_pydantic_json_schema__(self, schema, handler):
        out = handler(schema)
        out.setdefault("pattern", self.pattern)
        return out


NoNul, NotBlank = _NoNul(blank=True), _NoNul(blank=False)


def _visible(value: str) -> str:
    # A name made only of zero-width, combining, format or space characters is invisible on every page.
    if not any(unicodedata.category(c)[0] in "LNPS" for c in value):
        raise ValueError("a name needs at least one visible character (a letter, digit, punctuation or symbol)")
    return value


Name = Annotated[str, Field(min_length=1, max_length=200), NotBlank, AfterValidator(_visible)]
Label = Annotated[str, Field(max_length=64), NoNul]  # a vocabulary term as sent (action, ACLED types)
def _integral(value):
    # JSON Schema counts 3.0 as an integer, and so does a data frame whose column has a missing value somewhere.
    # Only up to 2**53, where every integer is a float exactly: a larger one may not be the number that was sent.
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


# Strict: JSON `true` or `"3"` is refused, not read as 1 or 3.
Count = Annotated[int, Field(ge=0, le=10_000_000, strict=True), BeforeValidator(_integral)]


def _event_ref(value):
    # Checked before the union so that `true` is one clear error, not read as event 1.
    value = _integral(value)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("expected an event id (a JSON integer) or a source_event_id (a string)")
    if isinstance(value, str):  # here, not in the union's string branch, whose errors would name the branch
        if not 1 <= len(value.strip()) <= 128:
            raise ValueError("a source_event_id has 1 to 128 characters")
        _no_nul(value)
    return value


ResponseRef = Annotated[Annotated[int, Field(ge=1, le=MAX_ID)] | Annotated[str, Field(min_length=1, max_length=128), NotBlank],
                        BeforeValidator(_event_ref)]

# Extended ISO 8601 only: a bare number or "20240101" was read as a Unix time.
# ASCII digits only (`\d` takes any script's), and nothing around them: "2024-01-16\n" is no date.
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|z|[+-]\d{2}:\d{2})", re.ASCII)


def _iso_date_or_datetime(value):
    """A date, or a datetime with its offset, from an ISO 8601 string; other types pass to pydantic as given."""
    if isinstance(value, (date, datetime)):
        return value
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 date (YYYY-MM-DD) or datetime with offset, as a string")
    text = value
    if ISO_DATE.fullmatch(text):
        return date.fromisoformat(text)
    if ISO_DATETIME.fullmatch(text):
        return datetime.fromisoformat(text.replace("z", "Z"))
    raise ValueError("expected an ISO 8601 date (YYYY-MM-DD) or datetime with offset (YYYY-MM-DDThh:mm:ss+hh:mm)")


class ActorKind(StrEnum):
    state = "state"
    non_state = "non_state"
    civilians = "civilians"


def _country(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().upper()
    if not is_iso3(value):
        raise ValueError(f"unknown ISO 3166-1 alpha-3 country code: {value!r}")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Actor(Strict):
    # What JSON Schema can say of "a state actor needs its country", for the OpenAPI document.
    model_config = ConfigDict(json_schema_extra={"if": {"properties": {"kind": {"const": "state"}}, "required": ["kind"]},
                                                 "then": {"required": ["country"],
                                                          "properties": {"country": {"enum": CODES}}}})
    name: Name
    country: str | None = Field(None, description="ISO 3166-1 alpha-3; required for states",
                                json_schema_extra={"enum": [*CODES, None]})
    kind: ActorKind

    _check_country = field_validator("country")(classmethod(lambda cls, v: _country(v)))

    @model_validator(mode="after")
    def _state_has_country(self) -> "Actor":
        if self.kind is ActorKind.state and self.country is None:
            raise ContractError("country", "a state actor needs its country")
        return self


class Location(Strict):
    country: str = Field(description="ISO 3166-1 alpha-3 of the territory where it happened",
                         json_schema_extra={"enum": CODES})
    admin1: Name | None = None
    latitude: float | None = Field(None, ge=-90, le=90, strict=True)
    longitude: float | None = Field(None, ge=-180, le=180, strict=True)

    _check_country = field_validator("country")(classmethod(lambda cls, v: _country(v)))


def _string_given(*fields: str) -> dict:
    return {"required": list(fields), "properties": {f: {"type": "string"} for f in fields}}


# What JSON Schema can say of the rules on the vocabularies, for the OpenAPI document: an action in one of them,
# and ACLED's two types together. Which ACLED pairs exist, and that two vocabularies agree, it cannot say.
_ONE_VOCABULARY = {
    "anyOf": [_string_given("action"), _string_given("event_type", "sub_event_type"), _string_given("cameo_code")],
    "allOf": [{"if": _string_given(a), "then": _string_given(b)}
              for a, b in (("event_type", "sub_event_type"), ("sub_event_type", "event_type"))],
}
_TIME = r"T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
_OCCURRED_ON = WithJsonSchema({"anyOf": [{"type": "string", "format": "date", "pattern": f"^{DATE_PATTERN}$"},
                                         {"type": "string", "format": "date-time",
                                          "pattern": f"^{DATE_PATTERN}{_TIME}$"}]})


class EventCreate(Strict):
    """One event record. `actor1` is the initiator; give `action`, ACLED types or `cameo_code`."""

    model_config = ConfigDict(json_schema_extra=_ONE_VOCABULARY)

    source: str = Field("api", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    source_event_id: Annotated[str, Field(min_length=1, max_length=128), NotBlank]
    occurred_on: Annotated[date | datetime, BeforeValidator(_iso_date_or_datetime), _OCCURRED_ON] = Field(
        description="ISO 8601 date, or datetime with offset: kept in UTC as occurred_at and dated by its UTC day")
    actor1: Actor
    actor2: Actor | None = None
    location: Location
    action: Label | None = Field(None, description="canonical action (see /v1/vocabulary)",
                                 json_schema_extra={"enum": [*vocabulary.ACTIONS, None]})
    event_type: Label | None = Field(None, description="ACLED event_type",
                                     json_schema_extra={"enum": [*sorted({k[0] for k in vocabulary.ACLED}), None]})
    sub_event_type: Label | None = Field(None, description="ACLED sub_event_type",
                                         json_schema_extra={"enum": [*sorted({k[1] for k in vocabulary.ACLED}), None]})
    cameo_code: Annotated[str, Field(max_length=4), NoNul] | None = Field(
        None, description="CAMEO event code", json_schema_extra={"pattern": "^(?:0[1-9]|1[0-9]|20)[0-9]{0,2}$"})
    fatalities: Count | None = None
    civilian_fatalities: Count | None = None
    injured: Count | None = None
    weapons: list[str] = Field(default_factory=list, max_length=20,
                               json_schema_extra={"items": {"type": "string", "enum": sorted(vocabulary.WEAPONS)}})
    retaliation: bool = Field(False, strict=True)
    responds_to: ResponseRef | None = Field(
        None, description="the event this one answers: its id (a number), or its `source_event_id` (a string) in the "
        "same `source`, stored or earlier in the same batch; stored as the id")
    notes: Annotated[str, Field(max_length=4000), NoNul] | None = None

    @field_validator("occurred_on")
    @classmethod
    def _not_in_future(cls, v: date | datetime) -> date | datetime:
        if isinstance(v, datetime):
            # Kept in UTC, so the stored day is the UTC day whatever offset the client sent.
            try:
                v = v.replace(tzinfo=timezone.utc) if v.tzinfo is None else v.astimezone(timezone.utc)
            except OverflowError:
                raise ValueError("occurred_on is out of range") from None
            day = v.date()
        else:
            day = v
        now = datetime.now(timezone.utc)
        if v > now + CLOCK_SKEW if isinstance(v, datetime) else day > now.date():
            raise ValueError(f"occurred_on is in the future (beyond a clock skew of {CLOCK_SKEW.seconds // 60} minutes)")
        if day.year < 1800:
            raise ValueError("occurred_on is before 1800")
        return v

    @field_validator("weapons")
    @classmethod
    def _known_weapons(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - vocabulary.WEAPONS)
        if unknown:
            raise ValueError(f"unknown weapons {unknown}; known: {sorted(vocabulary.WEAPONS)}")
        return sorted(set(v))

    @model_validator(mode="after")
    def _coherent(self) -> "EventCreate":
        if self.civilian_fatalities is not None and self.civilian_fatalities > (self.fatalities or 0):
            raise ContractError("civilian_fatalities", "civilian_fatalities exceeds fatalities")
        action = self.resolved_action()[0]
        if self.actor2 is None and action.hostility >= 4:
            raise ContractError("actor2", "actor2 may be omitted only for actions with no target (below use of force)")
        return self

    def resolved_action(self) -> tuple[vocabulary.Action, tuple[str, ...]]:
        """The canonical action and the weapons its source vocabulary implies. Where several vocabularies are
        given they must agree on the rung: `"action": "talks", "cameo_code": "190"` means nothing."""
        found: list[tuple[str, str, tuple[vocabulary.Action, tuple[str, ...]]]] = []
        if self.action is not None:
            if self.action not in vocabulary.ACTIONS:
                raise ContractError("action", f"unknown action {self.action!r}; see /v1/vocabulary")
            found.append(("action", repr(self.action), (vocabulary.ACTIONS[self.action], ())))
        if self.event_type is not None or self.sub_event_type is not None:
            hit = vocabulary.action_from_acled(self.event_type or "", self.sub_event_type or "")
            if hit is None:
                raise ContractError("sub_event_type", f"unknown ACLED event_type/sub_event_type {self.event_type!r}/{self.sub_event_type!r}")
            found.append(("sub_event_type", f"{self.event_type!r}/{self.sub_event_type!r}", hit))
        if self.cameo_code is not None:
            hit = vocabulary.action_from_cameo(self.cameo_code)
            if hit is None:
                raise ContractError("cameo_code", f"unknown CAMEO code {self.cameo_code!r}")
            found.append(("cameo_code", repr(self.cameo_code), hit))
        if not found:
            raise ContractError("action", "give one of action, event_type + sub_event_type, or cameo_code")
        first = found[0]
        for other in found[1:]:
            if other[2][0].rung != first[2][0].rung:
                raise ContractError(other[0], f"{first[0]} {first[1]} ({first[2][0].name}, rung {first[2][0].rung}) and "
                                    f"{other[0]} {other[1]} ({other[2][0].name}, rung {other[2][0].rung}) describe "
                                    "different acts: send one, or ones that agree")
        return first[2]


class DyadRef(BaseModel):
    id: str = Field(description="sorted member ids joined by '--', e.g. IRN--PAK")
    kind: str
    initiator: str
    target: str | None
    territorial: bool = Field(description="linked because a state acted on this state's territory")


class EventRead(BaseModel):
    id: int
    source: str
    source_event_id: str
    revision: int
    status: str | None = Field(None, description="on write: created | unchanged | revised | retracted")
    occurred_on: date
    occurred_at: datetime | None
    actor1: Actor
    actor2: Actor | None
    location: Location
    action: str
    hostility: int
    hostility_label: str
    event_type: str | None
    sub_event_type: str | None
    cameo_code: str | None
    fatalities: int | None
    civilian_fatalities: int | None
    injured: int | None
    weapons: list[str] = Field(description="given weapons plus those the source vocabulary implies")
    retaliation: bool
    responds_to: int | None = Field(description="id of the event this one answers")
    responds_to_source_event_id: str | None = Field(None, description="that event's source_event_id")
    notes: str | None
    dyads: list[DyadRef]
    created_at: datetime
    updated_at: datetime
    retracted_at: datetime | None


class EventPage(BaseModel):
    items: list[EventRead]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null at the end")


class EventBatch(BaseModel):
    """`{"items": [...]}` or a bare array. All or nothing: one invalid item rejects the request (422), every problem listed as `items.<index>.<field>`."""

    model_config = ConfigDict(extra="forbid")
    items: list[EventCreate] = Field(min_length=1, description="event records; at most `max_batch_items`")

    @model_validator(mode="before")
    @classmethod
    def _bare_array(cls, data):
        return {"items": data} if isinstance(data, list) else data

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema, handler):
        # The documented body is either shape; errors name items the same way for both.
        ref = handler(core_schema)
        schema = handler.resolve_ref_schema(ref)
        wrapped = dict(schema)
        bare = {"type": "array", "items": wrapped["properties"]["items"]["items"], "minItems": 1,
                "title": "bare array", "description": "the same items without the wrapping object"}
        schema.clear()
        schema.update(title="EventBatch", description=wrapped.pop("description", ""), anyOf=[wrapped, bare])
        return ref


class BatchItemResult(BaseModel):
    index: int
    id: int
    status: str


class BatchResult(BaseModel):
    created: int
    revised: int
    unchanged: int
    items: list[BatchItemResult]


class RevisionRead(BaseModel):
    revision: int
    change: str
    content_hash: str
    payload: dict
    recorded_at: datetime


class ActionRead(BaseModel):
    name: str
    hostility: int = Field(description="1 (none) .. 5 (war)")
    hostility_label: str
    rung: int = Field(description="escalation rung 0..10")
    mid_code: int | None = Field(description="the Correlates of War MID action code it stands for, if any")
    deescalation: bool
    directed: bool = Field(description="one side acts on the other (a clash is not directed)")


class AcledMapping(BaseModel):
    event_type: str
    sub_event_type: str
    action: str
    weapons: list[str]


class CameoMapping(BaseModel):
    code_prefix: str
    action: str
    weapons: list[str]


class Vocabulary(BaseModel):
    actions: list[ActionRead] = Field(description="the action ladder, least hostile first")
    weapons: list[str]
    standoff_weapons: list[str] = Field(description="weapons that strike from a distance")
    acled: list[AcledMapping] = Field(description="ACLED event and sub-event types onto actions and weapons")
    cameo: list[CameoMapping] = Field(description="CAMEO codes (by prefix) onto actions and weapons")
