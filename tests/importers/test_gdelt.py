"""The GDELT importer against the shared GDELT 2.0 sample (13-15 Nov 2020), read in place."""

import csv
from collections import Counter
from pathlib import Path

import pycountry
import pytest

from app.events.schemas import EventCreate
from app.importers import gdelt, registry

SAMPLE = Path(__file__).parents[2].parent / "shared/data" / "gdelt2-sample"

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def loaded() -> tuple[registry.ImportResult, list[dict]]:
    if not SAMPLE.is_dir():
        pytest.skip(f"GDELT sample not found at {SAMPLE}")
    result = registry.load("gdelt", SAMPLE)
    return result, list(result)


def _rows() -> list[dict[str, str]]:
    rows = []
    for file in sorted(SAMPLE.glob("*.csv")):
        with open(file, newline="", encoding="utf-8") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


def test_every_row_is_imported_or_skipped_and_every_event_validates(loaded):
    result, events = loaded
    assert result.imported == len(events) == 7694
    assert result.imported + sum(result.skipped.values()) == 9354
    ids = [e["source_event_id"] for e in events]
    assert len(set(ids)) == len(ids)
    for event in events:
        assert event["source"] == "gdelt"
        EventCreate.model_validate(event)


def test_skip_reasons_are_counted(loaded):
    skipped = loaded[0].skipped
    assert skipped["actor role IGO has no actor kind"] == 550
    assert skipped["actor country AFR is not a state"] == 289
    assert skipped["actor role MED has no actor kind"] == 228
    assert "unknown CAMEO code" not in skipped
    assert all(reason.startswith("actor ") for reason in skipped)


def test_use_of_force_codes_map_to_use_of_force_actions(loaded):
    fights = [EventCreate.model_validate(e) for e in loaded[1] if e["cameo_code"].startswith("19")]
    assert len(fights) == 585
    assert all(event.resolved_action()[0].hostility == 4 for event in fights)
    by_code = {event.cameo_code: event.resolved_action()[0].name for event in fights}
    assert by_code["190"] == "attack"
    assert by_code["193"] == "clash"


def test_first_sample_row_in_full(loaded):
    first = next(e for e in loaded[1] if e["source_event_id"] == "954680550")
    assert first["occurred_on"] == "2020-11-13"
    assert first["actor1"] == {"name": "Afghanistan", "country": "AFG", "kind": "state"}
    assert first["actor2"] == {"name": "United Kingdom", "country": "GBR", "kind": "state"}
    assert first["location"] == {"country": "AFG", "admin1": "Helmand", "latitude": 31.0, "longitude": 64.0}
    assert first["cameo_code"] == "190"


def test_actor_roles_give_kinds(loaded):
    by_id = {e["source_event_id"]: e for e in loaded[1]}
    rows = {r["Global_Event_ID"]: r for r in _rows()}
    taliban = [i for i, r in rows.items() if r["Actor_1_Name"] == "TALIBAN" and i in by_id]
    assert taliban and all(by_id[i]["actor1"]["kind"] == "non_state" for i in taliban)
    civilians = [i for i, r in rows.items() if r["Actor_2_Role"] == "CVL" and i in by_id]
    assert civilians and all(by_id[i]["actor2"]["kind"] == "civilians" for i in civilians)


def test_fips_table_agrees_with_the_sample_place_names():
    if not SAMPLE.is_dir():
        pytest.skip(f"GDELT sample not found at {SAMPLE}")
    # GDELT's spellings that pycountry does not know; each is the country the code must map to.
    spelled = {
        "Bosnia-Herzegovina": "BIH", "Brunei": "BRN", "Cape Verde": "CPV", "Gaza Strip": "PSE",
        "West Bank": "PSE", "Cote D'ivoire": "CIV", "Kosovo": "XKX", "Macedonia": "MKD",
        "Russia": "RUS", "East Timor": "TLS", "Turkey": "TUR", "Vatican City": "VAT",
    }
    names: dict[str, Counter[str]] = {}
    for row in _rows():
        if row["Country"]:
            names.setdefault(row["Country"], Counter())[row["ST_PR_CNTRY"].split(",")[-1].strip()] += 1
    checked = 0
    for fips, counter in names.items():
        name = counter.most_common(1)[0][0]
        if fips in {"OS", "PF"}:  # oceans, Paracel Islands: no country
            assert gdelt.fips_to_iso3(fips) is None
            continue
        if name in {"", "Republic Of"}:  # "Belgrade, Serbia (general)," / "Vietnam, Republic Of"
            continue
        expected = spelled.get(name) or pycountry.countries.lookup(name).alpha_3
        assert gdelt.fips_to_iso3(fips) == expected, (fips, name)
        checked += 1
    assert checked > 150
    assert gdelt.fips_to_iso3("RB") == "SRB" and gdelt.fips_to_iso3("VM") == "VNM"
