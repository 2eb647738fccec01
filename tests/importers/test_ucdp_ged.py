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
