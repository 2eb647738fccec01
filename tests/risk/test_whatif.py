"""What-if stores nothing; the prior of a dyad with no events; explanations add up; train/serve parity via the DB."""

import math
from datetime import date

import numpy as np
from sqlalchemy import func, select

from app.events.dyads import facts_for
from app.events.models import Event
from app.events.schemas import EventCreate
from app.ml.features import FEATURE_NAMES, build_features
from app.risk.models import Assessment, DyadRisk
from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION, event

ANOTHER_STRIKE = event(IRAN_STRIKE, source_event_id="hypothetical", occurred_on="2024-01-20", fatalities=30,
                       civilian_fatalities=0)


def _counts(client) -> tuple[int, int, int]:
    with client.app.state.sessionmaker() as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in (Event, Assessment, DyadRisk))


def _adds_up(answer: dict) -> None:
    e = answer["explanation"]
    p = answer["probability"]
    assert e["unit"] == "log_odds" and set(e["contributions"]) == set(FEATURE_NAMES)
    assert math.isclose(e["baseline"] + sum(e["contributions"].values()), math.log(p / (1 - p)), abs_tol=1e-6)
    themes = {d["theme"] for d in answer["drivers"]}
    assert themes == {"retaliation", "casualties", "tempo", "severity", "deescalation", "contagion", "structural"}
    assert math.isclose(sum(d["contribution"] for d in answer["drivers"]), sum(e["contributions"].values()),
                        abs_tol=1e-9)


def test_what_if_scores_hypothetical_events_and_stores_nothing(client):
    client.post("/v1/events", json=IRAN_STRIKE)
    client.post("/v1/events", json=PAKISTAN_RETALIATION)
    before = _counts(client)
    feed = client.get("/v1/assessments").json()
    r = client.post("/v1/risk/what-if", json={"a": "PAK", "b": "IRN", "events": [ANOTHER_STRIKE]})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["as_of"] == "2024-01-20" and answer["event_count"] == 3 and answer["dyad_id"] == "IRN--PAK"
    _adds_up(answer)
    stored = client.get("/v1/risk", params={"a": "IRN", "b": "PAK", "as_of": "2024-01-20"}).json()
    assert stored["event_count"] == 2 and answer["probability"] != stored["probability"]
    assert _counts(client) == before and client.get("/v1/assessments").json() == feed


def test_what_if_on_a_dyad_with_no_events_and_bad_input(client):
    r = client.post("/v1/risk/what-if", json={"a": "IRN", "b": "PAK", "as_of": "2024-02-01",
                                              "events": [IRAN_STRIKE]})
    assert r.status_code == 200 and r.json()["event_count"] == 1 and r.json()["latest_assessment_id"] is None
    elsewhere = event(IRAN_STRIKE, location={"country": "IRQ"})
    bad = client.post("/v1/risk/what-if", json={"a": "IRN", "b": "PAK", "events": [elsewhere]})
    assert bad.status_code == 422 and bad.json()["field"] == "events.0"
    invalid = event(IRAN_STRIKE, civilian_fatalities=5)  # more civilians than fatalities: the contract says no
    bad = client.post("/v1/risk/what-if", json={"a": "IRN", "b": "PAK", "events": [invalid]})
    assert bad.status_code == 422 and "civilian_fatalities" in bad.json()["field"]
    assert client.post("/v1/risk/what-if", json={"a": "IRN", "b": "PAK", "events": []}).status_code == 422
    for as_of in (1705536000, "20240118", "2024-01-18T00:00:00"):  # ISO dates only, as for events
        bad = client.post("/v1/risk/what-if", json={"a": "IRN", "b": "PAK", "as_of": as_of, "events": [IRAN_STRIKE]})
        assert bad.status_code == 422 and bad.json()["field"] == "as_of", as_of
    assert _counts(client) == (0, 0, 0)


def test_prior_of_a_dyad_with_no_events_reflects_its_structure(client):
    ind_pak = client.get("/v1/risk", params={"a": "IND", "b": "PAK", "as_of": "2024-01-01"}).json()
    nor_swe = client.get("/v1/risk", params={"a": "NOR", "b": "SWE", "as_of": "2024-01-01"}).json()
    assert ind_pak["event_count"] == 0 and ind_pak["latest_assessment_id"] is None
    assert ind_pak["probability"] > nor_swe["probability"]
    structural = next(d for d in ind_pak["drivers"] if d["theme"] == "structural")
    assert "strategic rivals" in structural["label"] and "fought a war or armed conflict before" in structural["label"]
    _adds_up(ind_pak)


def test_stored_assessments_carry_an_explanation_that_adds_up(client):
    client.post("/v1/events", json=IRAN_STRIKE)
    client.post("/v1/events", json=PAKISTAN_RETALIATION)
    for a in client.get("/v1/assessments").json()["items"]:
        _adds_up(a)


def test_features_stored_by_the_service_equal_the_training_path(client, scorer):
    """Parity through the database: ingest the seed, read what the service scored, rebuild it as training does."""
    client.post("/v1/events", json=IRAN_STRIKE)
    client.post("/v1/events", json=PAKISTAN_RETALIATION)
    stored = client.get("/v1/dyads/IRN--PAK/assessments").json()["items"]
    assert [a["as_of"] for a in stored] == ["2024-01-16", "2024-01-18"]
    # the training path: source dict -> EventCreate.model_validate -> facts_for (app.ml.dataset.dyad_histories)
    facts = [f for raw in (IRAN_STRIKE, PAKISTAN_RETALIATION)
             for link, f in facts_for(EventCreate.model_validate(raw)) if link.dyad_id == "IRN--PAK"]
    for a in stored:
        as_of = date.fromisoformat(a["as_of"])
        expected = build_features(facts, as_of, scorer.context_for("IRN", "PAK", as_of))
        np.testing.assert_array_equal(np.array([a["features"][n] for n in FEATURE_NAMES]), expected)
        assert a["probability"] == scorer.score(facts, as_of, scorer.context_for("IRN", "PAK", as_of)).probabilities[
            scorer.primary]
