"""MIE importer: hand-made rows, then the whole shared file through the API contract."""

from collections import Counter
from pathlib import Path

import pytest

from app.events.dyads import facts_for
from app.events.schemas import EventCreate
from app.importers import mie

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mie-1.0" / "mie-1.0.csv"


def row(**kw) -> dict[str, str]:
    base = {
        "micnum": "4182",
        "eventnum": "3",
        "ccode1": "750",
        "ccode2": "770",
        "stmon": "5",
        "stday": "26",
        "styear": "1999",
        "endmon": "5",
        "endday": "26",
        "endyear": "1999",
        "sidea1": "1",
        "action": "16",
        "hostlev": "4",
        "fatalmin1": "0",
        "fatalmax1": "0",
        "fatalmin2": "10",
        "fatalmax2": "25",
        "version": "mie-1.0",
    }
    return base | {k: str(v) for k, v in kw.items()}


def test_directed_attack_becomes_a_valid_event():
    event = EventCreate.model_validate(mie.convert(row()))
    assert (event.actor1.country, event.actor2.country, event.location.country) == ("IND", "PAK", "PAK")
    assert event.action == "attack" and event.fatalities == 18 and str(event.occurred_on) == "1999-05-26"
    assert event.source == "mie" and event.source_event_id == "4182-3"
    [(link, fact)] = facts_for(event)
    assert link.dyad_id == "IND--PAK" and fact.directed and fact.initiator == "IND"


def test_unknown_day_is_mid_month():
    assert mie.convert(row(stday=-9, stmon=2, styear=1999))["occurred_on"] == "1999-02-28"


@pytest.mark.parametrize("code", [17, 22])
def test_clashes_and_war_battles_are_not_directed(code: int):
    [(_, fact)] = facts_for(EventCreate.model_validate(mie.convert(row(action=code, hostlev=4 if code == 17 else 5))))
    assert not fact.directed


def test_states_without_iso3_are_skipped_and_counted():
    assert mie.convert(row(ccode1=265)) == "no_iso3"  # German Democratic Republic
    assert mie.convert(row(ccode1=255, ccode2=260)) == "same_iso3"


@pytest.mark.shared_data
def test_whole_file_validates_with_stable_unique_ids():
    if not DATA.is_file():
        pytest.skip("../shared/data is absent")
    skipped: Counter[str] = Counter()
    ids = [EventCreate.model_validate(d).source_event_id for d in mie.iter_events(DATA, skipped)]
    assert len(ids) == len(set(ids)) > 27_000
    assert set(skipped) <= {"no_iso3", "same_iso3"} and 0 < skipped["no_iso3"] < 1_000
    assert ids[:50] == [d["source_event_id"] for d in mie.iter_events(DATA)][:50]
