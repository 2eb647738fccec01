"""UCDP GED importer: both column layouts, the three violence types, and the shared slices."""

from collections import Counter
from pathlib import Path

import pytest

from app.events.dyads import facts_for
from app.events.schemas import EventCreate
from app.importers import ucdp_ged

SLICES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ucdp-ged-slices"


def netify(**kw) -> dict[str, str]:
    base = {
        "id": "48528.0",
        "type_of_violence": "1.0",
        "side_a": "Government of Myanmar (Burma)",
        "side_b": "KIO",
        "gwnoa": "775",
        "gwnob": "",
        "country_id": "775.0",
        "date_start": "2012-01-05",
        "date_prec": "1.0",
        "best": "12.0",
        "deaths_civilians": "2.0",
        "adm_1": "Kachin state",
        "dyad_name": "Government of Myanmar (Burma) - KIO",
    }
    return base | {k: str(v) for k, v in kw.items()}


def syria(**kw) -> dict[str, str]:
    """The data4ds4da layout: no gwnoa, so the government is resolved from its name."""
    base = {
        "id": "214797.0",
        "type_of_violence": "1.0",
        "side_a": "Government of Turkey",
        "side_b": "SDF",
        "gwnob": "",
        "country_id": "652.0",
        "date_start": "2018-01-22",
        "date_prec": "1.0",
        "best": "4.0",
        "deaths_civilians": "0.0",
        "adm_1": "Aleppo governorate",
    }
    return base | {k: str(v) for k, v in kw.items()}


def test_state_based_violence_is_an_undirected_clash():
    event = EventCreate.model_validate(ucdp_ged.convert(netify()))
    assert event.action == "clash" and event.actor1.country == "MMR" and event.actor2.kind == "non_state"
    assert (event.fatalities, event.civilian_fatalities, event.source_event_id) == (12, 2, "48528")
    [(link, fact)] = facts_for(event)
    assert link.dyad_id == "MMR--nsa:kio" and not fact.directed


def test_one_sided_violence_targets_civilians_of_the_country():
    event = EventCreate.model_validate(ucdp_ged.convert(netify(type_of_violence=3, side_b="Civilians", best=34)))
    assert event.action == "attack" and event.actor2.kind == "civilians"
    assert [link.dyad_id for link, _ in facts_for(event)] == ["MMR--civ:MMR"]


def test_non_state_violence_has_two_non_state_actors():
    event = EventCreate.model_validate(
        ucdp_ged.convert(netify(type_of_violence=2, side_a="Gulf Cartel", side_b="Zetas", gwnoa="", country_id=70))
    )
    assert [link.kind for link, _ in facts_for(event)] == ["nonstate_nonstate"]


def test_layout_without_gwnoa_resolves_the_government_and_the_territorial_link():
    event = EventCreate.model_validate(ucdp_ged.convert(syria()))
    assert event.actor1.country == "TUR" and event.location.country == "SYR"
    assert {link.dyad_id for link, _ in facts_for(event)} == {"TUR--nsa:sdf", "SYR--TUR"}


def test_rows_are_skipped_with_a_reason():
    assert ucdp_ged.convert(netify(date_prec=5)) == "date_year_only"
    assert ucdp_ged.convert(syria(side_a="Government of Atlantis")) == "unknown_government"


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "name", ["netify_mexico.csv", "netify_myanmar.csv", "data4ds4da_ucdp_syria_df.csv", "uncertainUCDP_ucdpged.csv"]
)
def test_shared_slices_validate(name: str):
    if not (SLICES / name).is_file():
        pytest.skip("../shared/data is absent")
    skipped: Counter[str] = Counter()
    ids = [EventCreate.model_validate(d).source_event_id for d in ucdp_ged.iter_events(SLICES / name, skipped)]
    assert len(ids) == len(set(ids)) > 900
    assert set(skipped) <= {"date_year_only"} and sum(skipped.values()) < 0.05 * len(ids)


def test_multi_day_events_are_dated_when_their_deaths_are_known():
    event = ucdp_ged.convert(netify(date_start="2012-01-05", date_end="2012-01-20", date_prec=3))
    assert event["occurred_on"] == "2012-01-20"
    assert ucdp_ged.convert(netify())["occurred_on"] == "2012-01-05"  # no date_end: the start


def reduced(**kw) -> dict[str, str]:
    """The reduced global 21.1 layout: year/month/day, the country and type of violence as text, best_death."""
    base = {"id": "244657", "year": "2017", "month": "7", "day": "31", "country": "Bosnia-Herzegovina",
            "type_of_violence": "State-based violence", "conflict_name": "Bosnia-Herzegovina: Serb",
            "side_a": "Government of Bosnia-Herzegovina", "side_b": "Serbian Republic of Bosnia-Herzegovina",
            "latitude": "43.8", "longitude": "18.4", "low_death": "5.0", "best_death": "6.0", "high_death": "9.0"}
    return base | {k: str(v) for k, v in kw.items()}


def test_the_reduced_global_layout_converts():
    event = ucdp_ged.convert(reduced())
    assert event["occurred_on"] == "2017-07-31" and event["fatalities"] == 6 and event["action"] == "clash"
    assert event["actor1"] == {"name": "Government of Bosnia-Herzegovina", "country": "BIH", "kind": "state"}
    assert event["location"]["country"] == "BIH" and event["civilian_fatalities"] == 0
    one_sided = ucdp_ged.convert(reduced(type_of_violence="One-sided violence", side_b="Civilians",
                                         country="Macedonia, FYR", side_a="NLA"))
    assert one_sided["action"] == "attack" and one_sided["actor2"] == {"name": "Civilians", "country": "MKD",
                                                                       "kind": "civilians"}
    assert ucdp_ged.convert(reduced(country="Atlantis")) == "no_iso3"


def test_a_gzipped_file_is_read(tmp_path: Path):
    import csv
    import gzip

    path = tmp_path / "ged.csv.gz"
    with gzip.open(path, "wt", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(reduced()))
        writer.writeheader()
        writer.writerow(reduced())
        writer.writerow(reduced(id="2", country="Atlantis"))
    skipped: Counter[str] = Counter()
    assert [e["source_event_id"] for e in ucdp_ged.iter_events(path, skipped)] == ["244657"]
    assert skipped == {"no_iso3": 1}


@pytest.mark.shared_data
def test_the_shared_global_file_converts_almost_whole():
    path = SLICES.parent / "ucdp-ged-21.1-reduced" / "ged_v21_1_whereprec12.csv.gz"
    if not path.is_file():
        pytest.skip("../shared/data is absent")
    skipped: Counter[str] = Counter()
    n = sum(1 for _ in ucdp_ged.iter_events(path, skipped))
    assert n == 176_579 - sum(skipped.values()) and sum(skipped.values()) < 0.001 * n
