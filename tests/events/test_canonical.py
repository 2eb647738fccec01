"""Stored content hashes recognise re-sends by the event's canonical JSON: the fast writer must give the standard
library's bytes for every event the contract accepts, or re-sends stored before it would read as revisions."""

import json
import typing
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from app.events.schemas import EventCreate
from app.events.service import canonical_json
from tests.factories import event


def _reference(data: dict) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _types(annotation) -> list:
    """The annotation and every type inside it: unions, lists, `Annotated` and their arguments, to any depth."""
    return [annotation, *(t for arg in typing.get_args(annotation) for t in _types(arg))]


def _float_fields(model: type[BaseModel], prefix: str = "") -> set[str]:
    found = set()
    for name, info in model.model_fields.items():
        for arg in _types(info.annotation):
            if arg is float:
                found.add(prefix + name)
            elif isinstance(arg, type) and issubclass(arg, BaseModel):
                found |= _float_fields(arg, f"{prefix}{name}.")
    return found


def test_the_float_search_sees_through_annotations():
    class Probe(BaseModel):
        share: typing.Annotated[float, "unit"] | None = None
        shares: list[typing.Annotated[float, "unit"]] = []

    assert _float_fields(Probe) == {"share", "shares"}


def test_the_coordinates_are_the_contracts_only_floats():
    # canonical_json checks the floats it knows of; a new float field must be added there.
    assert _float_fields(EventCreate) == {"location.latitude", "location.longitude"}


# names need a visible character (the contract refuses invisible ones)
text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=12).filter(
    lambda s: s.strip() and any(unicodedata.category(c)[0] in "LNPS" for c in s))
coordinate = st.one_of(st.none(), st.floats(-90, 90), st.sampled_from([1e-05, -3e-07, 0.0001, 5e-324, -0.0, 12.0]))


@settings(max_examples=400, deadline=None)
@given(name=text, notes=st.one_of(st.none(), text), admin1=st.one_of(st.none(), text), lat=coordinate, lon=coordinate)
def test_fast_canonical_json_is_the_standard_librarys(name, notes, admin1, lat, lon):
    item = EventCreate.model_validate(event(
        notes=notes, actor1={"name": name, "country": "IRN", "kind": "state"},
        location={"country": "PAK", "admin1": admin1, "latitude": lat, "longitude": lon}))
    data = item.model_dump(mode="json")
    assert canonical_json(data) == _reference(data)


def test_each_difference_of_the_fast_writer_takes_the_standard_way():
    for notes, lat in [("caf\u00e9", 1.0), ("del \x7f", 1.0), ("a\tb", 1e-05), ("plain", 33.5)]:
        data = EventCreate.model_validate(event(notes=notes, location={"country": "PAK", "latitude": lat})).model_dump(
            mode="json")
        assert canonical_json(data) == _reference(data)


def test_the_identity_fields_are_todays_contract_so_stored_hashes_stand():
    from app.events.schemas import Actor, Location
    from app.events.service import IDENTITY_V1

    assert set(IDENTITY_V1) == set(EventCreate.model_fields)
    assert set(IDENTITY_V1["actor1"]) == set(IDENTITY_V1["actor2"]) == set(Actor.model_fields)
    assert set(IDENTITY_V1["location"]) == set(Location.model_fields)


def test_a_field_added_to_the_contract_leaves_an_old_events_resend_unchanged(client):
    """As a later version would: the contract grows an optional field; a re-send of an event stored before, which
    does not set it, is recognised (the hash covers the versioned identity fields, not the whole model)."""
    import hashlib

    from app.events import service
    from app.events.schemas import Actor

    class GrownActor(Actor):
        wikidata_id: str | None = None

    class Grown(EventCreate):
        source_url: str | None = None
        actor1: GrownActor

    stored = client.post("/v1/events", json=event()).json()
    grown = Grown.model_validate(event())
    assert "source_url" in grown.model_dump() and "wikidata_id" in grown.model_dump()["actor1"]
    with client.app.state.write_sessionmaker.begin() as session:
        result = service.ingest(session, [grown])
    assert [(r.event_id, r.status) for r in result] == [(stored["id"], "unchanged")]
    # and the hash is what a hash of the whole model would not be
    whole = hashlib.sha256(canonical_json(grown.model_dump(mode="json")).encode()).hexdigest()
    assert service._payload(grown)[1] != whole
