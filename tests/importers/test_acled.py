"""The ACLED importer against a hand-written fixture in ACLED's export layout."""

from datetime import date
from pathlib import Path

import pytest

from app.events.schemas import EventCreate
from app.importers import acled, registry

FIXTURE = Path(__file__).parent / "fixtures" / "acled_sample.csv"


@pytest.fixture(scope="module")
def result() -> tuple[registry.ImportResult, dict[str, dict]]:
    loaded = registry.load("acled", FIXTURE)
    events = {event["source_event_id"]: event for event in loaded}
    return loaded, events


def test_every_event_validates_with_a_unique_id(result):
    loaded, events = result
    assert loaded.imported == len(events) == 7
    for event in events.values():
        assert event["source"] == "acled"
        EventCreate.model_validate(event)


def test_skips_are_counted_by_reason(result):
    loaded, _ = result
    assert loaded.skipped == {"unknown event_type/sub_event_type": 1, "invalid actor2": 1}
    assert "PAK900005" in loaded.examples["unknown event_type/sub_event_type"]
    assert "IRN900003" in loaded.examples["invalid actor2"]


def test_pakistani_strike_in_iran(result):
    event = EventCreate.model_validate(result[1]["IRN900001"])
    assert (event.actor1.kind, event.actor1.country) == ("state", "PAK")
    assert event.location.country == "IRN"
    assert event.location.admin1 == "Sistan and Baluchestan"
    assert event.resolved_action()[0].name == "attack"
    assert event.fatalities == 9
    assert event.civilian_fatalities is None  # not coded as civilian targeting
    assert event.occurred_on == date(2024, 1, 18)
    assert event.actor2 is not None and event.actor2.kind == "non_state"


def test_iranian_strike_in_pakistan_counts_civilian_dead(result):
    event = EventCreate.model_validate(result[1]["PAK900001"])
    assert event.occurred_on == date(2024, 1, 16)  # "16 January 2024" in the file
    assert (event.actor1.kind, event.actor1.country) == ("state", "IRN")
    assert event.location.country == "PAK"
    assert event.actor2 is not None
    assert (event.actor2.kind, event.actor2.country) == ("civilians", "PAK")
    assert event.fatalities == event.civilian_fatalities == 2
    assert event.weapons == []  # the service adds what the sub_event_type implies


def test_clash_protest_and_violence_against_civilians(result):
    events = result[1]
    clash = EventCreate.model_validate(events["PAK900002"])
    assert clash.resolved_action()[0].name == "clash"
    assert (clash.actor1.kind, clash.actor1.country, clash.actor2.kind) == ("state", "PAK", "non_state")
    protest = EventCreate.model_validate(events["PAK900003"])
    assert protest.actor2 is None and protest.actor1.kind == "non_state"
    assert protest.resolved_action()[0].hostility == 1
    attack = EventCreate.model_validate(events["PAK900004"])
    assert attack.actor2.kind == "civilians" and attack.civilian_fatalities == 3


def test_state_country_comes_from_the_actor_name():
    assert acled._state_country("Military Forces of Pakistan (2018-)") == "PAK"
    assert acled._state_country("Police Forces of Iran (1989-) Islamic Revolutionary Guard Corps") == "IRN"
    assert acled._state_country("Military Forces of the United States (2021-)") == "USA"
    assert acled._state_country("Military Forces of Russia (2000-)") == "RUS"
    assert acled._state_country("Unidentified Military Forces") is None


def test_state_forces_without_a_named_country_take_the_event_country():
    actor = acled._actor("Unidentified Military Forces", "1", "PAK")
    assert actor == {"name": "Unidentified Military Forces", "country": "PAK", "kind": "state"}
    assert acled._actor("Military Forces of Russia (2000-)", "External/Other forces", "UKR")["country"] == "RUS"
    assert acled._actor("Wagner Group", "8", "MLI")["kind"] == "non_state"


@pytest.mark.parametrize("text", ["2024-01-16", "16 January 2024"])
def test_both_date_styles(text):
    assert acled.parse_date(text) == date(2024, 1, 16)


def test_location_from_numeric_iso_or_country_name():
    assert acled._location_country({"iso": "364", "country": "Iran"}) == "IRN"
    assert acled._location_country({"iso": "0", "country": "Kosovo"}) == "XKX"
    assert acled._location_country({"iso": "", "country": "Nowhere"}) is None
