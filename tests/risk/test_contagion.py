"""Contagion through the service: a member's other fronts move a dyad's risk, its cache keys and its stored answer.

Iran struck Iraq and Syria within two days of its strike in Pakistan (January 2024): Iran's strike on Iraq is a
front of Iran and Pakistan's dyad, read from the stored events of Iran's other dyads."""

from sqlalchemy import select

from app.risk.models import Assessment
from tests.factories import IRAN_STRIKE, IRAQ, PAKISTAN_RETALIATION, event

RISK = {"a": "IRN", "b": "PAK", "as_of": "2024-01-18"}


def _risk(client, params=RISK, etag=None):
    return client.get("/v1/risk", params=params, headers={"If-None-Match": etag} if etag else {})


def _contagion(answer: dict) -> dict:
    return next(d for d in answer["drivers"] if d["theme"] == "contagion")


def test_a_strike_on_another_front_moves_the_risk_and_its_etag(client):
    assert client.post("/v1/events", json=IRAN_STRIKE).status_code == 201
    assert client.post("/v1/events", json=PAKISTAN_RETALIATION).status_code == 201
    before = _risk(client)
    assert before.json()["features"]["other_fronts_30d"] == 0
    quiet = _contagion(before.json())
    # the seed's own strike links Iran to Jaish al-Adl too: one act, not another front
    assert quiet["contribution"] == 0 and quiet["label"].startswith("no other front of either side")
    assert _risk(client, etag=before.headers["etag"]).status_code == 304

    assert client.post("/v1/events", json=IRAQ).status_code == 201
    after = _risk(client, etag=before.headers["etag"])
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    answer = after.json()
    assert answer["features"]["other_fronts_30d"] == 1
    assert answer["probability"] != before.json()["probability"]
    driver = _contagion(answer)
    assert driver["facts"] == [{"dyad_id": "IRN--IRQ", "deaths": 4}]
    assert driver["label"].startswith("1 other front of either side in the last 30 days, 4 killed there: Iran vs Iraq")
    effect = "raises" if driver["contribution"] > 0 else "lowers"
    assert driver["label"].endswith(f"this {effect} the risk") and driver["contribution"] != 0
    # 30 days after Iraq's strike it is no longer a front
    later = _risk(client, {"a": "IRN", "b": "PAK", "as_of": "2024-02-14"}).json()
    assert later["features"]["other_fronts_30d"] == 0


def test_the_stored_answer_that_reads_the_front_is_redone_and_pushed(client):
    client.post("/v1/events", json=IRAN_STRIKE)
    client.post("/v1/events", json=PAKISTAN_RETALIATION)
    head = int(client.get("/v1/assessments").json()["next_cursor"])
    created = client.post("/v1/events", json=IRAQ).json()
    feed = client.get("/v1/assessments", params={"after": head}).json()["items"]
    by_dyad = {a["dyad_id"]: a for a in feed}
    # IRN--PAK is assessed as of 18 Jan; Iraq's strike on 15 Jan is within its 30 days: a new answer, "contagion"
    redone = by_dyad["IRN--PAK"]
    assert redone["reason"] == "contagion" and redone["as_of"] == "2024-01-18"
    assert redone["trigger_event_id"] == created["id"]
    assert redone["probability"] == _risk(client).json()["probability"]
    # Pakistan's and Iran's dyads with the groups are as of 16 and 18 Jan: Iran's, within reach, is redone too;
    # Pakistan's with the BLA shares no member with IRN--IRQ
    assert by_dyad["IRN--nsa:jaish-al-adl"]["reason"] == "contagion"
    assert "PAK--nsa:baluchistan-liberation-army" not in by_dyad
    # an event 40 days before the answers' dates is no front of them: nothing redone
    head = int(client.get("/v1/assessments").json()["next_cursor"])
    old = event(IRAQ, source_event_id="2023-12-01-irn-irq", occurred_on="2023-12-01")
    assert client.post("/v1/events", json=old).status_code == 201
    feed = client.get("/v1/assessments", params={"after": head}).json()["items"]
    assert {a["dyad_id"] for a in feed} == {"IRN--IRQ"}
    # the front retracted: the answer is redone without it
    head = int(client.get("/v1/assessments").json()["next_cursor"])
    assert client.delete(f"/v1/events/{created['id']}").status_code in (200, 204)
    feed = client.get("/v1/assessments", params={"after": head}).json()["items"]
    back = {a["dyad_id"]: a for a in feed}["IRN--PAK"]
    assert back["reason"] == "contagion" and back["probability"] == _risk(client).json()["probability"]
    with client.app.state.sessionmaker() as s:
        stored = s.scalars(select(Assessment).where(Assessment.id == back["id"])).one()
        assert stored.features["other_fronts_30d"] == 0 and stored.changed_event_ids == []


def test_talks_and_threats_redo_no_neighbour_but_a_strike_turned_into_talks_does(client):
    """Only a use of force or a fatal event is a front: talks or a threat on another dyad of a member leave the
    stored answers that would read it as they are (no feed noise); a revision is judged on both its versions."""
    client.post("/v1/events", json=IRAN_STRIKE)
    client.post("/v1/events", json=PAKISTAN_RETALIATION)
    quiet = {"fatalities": None, "civilian_fatalities": None, "weapons": []}
    talks = event(IRAQ, source_event_id="2024-01-17-irn-irq-talks", action="talks", **quiet)
    threat = event(IRAQ, source_event_id="2024-01-17-irn-irq-threat", action="threat_to_use_force", **quiet)
    for body in (talks, threat):
        head = _head(client)
        assert client.post("/v1/events", json=body).status_code == 201
        assert _feed_since(client, head) == {"IRN--IRQ"}, body["action"]
    before = _risk(client).json()
    assert before["features"]["other_fronts_30d"] == 0

    head = _head(client)
    assert client.post("/v1/events", json=IRAQ).status_code == 201
    assert {"IRN--IRQ", "IRN--PAK"} <= _feed_since(client, head)
    # the strike revised into talks: the front is gone, so the answer that read it is redone
    head = _head(client)
    assert client.post("/v1/events", json=event(IRAQ, action="talks", **quiet)).status_code == 200
    redone = {a["dyad_id"]: a for a in client.get("/v1/assessments", params={"after": head}).json()["items"]}
    assert redone["IRN--PAK"]["reason"] == "contagion"
    assert redone["IRN--PAK"]["probability"] == before["probability"] == _risk(client).json()["probability"]


def test_a_pair_with_no_events_reads_its_members_fronts(client):
    client.post("/v1/events", json=IRAQ)
    prior = _risk(client, {"a": "IRN", "b": "PAK", "as_of": "2024-01-16"})
    assert prior.status_code == 200 and prior.json()["event_count"] == 0
    assert prior.json()["features"]["other_fronts_30d"] == 1
    assert _contagion(prior.json())["facts"] == [{"dyad_id": "IRN--IRQ", "deaths": 4}]


def test_series_and_what_if_read_the_fronts_as_the_risk_does(client):
    for body in (IRAN_STRIKE, PAKISTAN_RETALIATION, IRAQ):
        client.post("/v1/events", json=body)
    series = client.get("/v1/dyads/IRN--PAK/series", params={"from": "2024-01-10", "to": "2024-02-20", "step": 3})
    assert series.status_code == 200
    points = series.json()["points"]
    for point in points[::4]:
        risk = _risk(client, {"a": "IRN", "b": "PAK", "as_of": point["as_of"]}).json()
        assert point["probability"] == risk["probability"], point["as_of"]
    assert {p["as_of"]: p for p in points}["2024-01-16"]["probability"] == _risk(
        client, {"a": "IRN", "b": "PAK", "as_of": "2024-01-16"}).json()["probability"]
    what_if = client.post("/v1/risk/what-if", json={
        "a": "IRN", "b": "PAK", "as_of": "2024-01-18",
        "events": [event(PAKISTAN_RETALIATION, source_event_id="again", occurred_on="2024-01-18")]}).json()
    assert what_if["features"]["other_fronts_30d"] == 1


def _feed_since(client, head: int) -> set[str]:
    return {a["dyad_id"] for a in client.get("/v1/assessments", params={"after": head}).json()["items"]}


def _head(client) -> int:
    return int(client.get("/v1/assessments").json()["next_cursor"])


def test_only_the_fronts_marker_can_tell_a_cached_answer_is_stale(client):
    """A front dated after the dyad's stored answer redoes nothing of IRN--PAK: its own marker stays, so the ETags
    and cache keys of the risk, the series and the prior must move by the members' fronts alone."""
    client.post("/v1/events", json=IRAN_STRIKE)
    client.post("/v1/events", json=PAKISTAN_RETALIATION)
    params = {"a": "IRN", "b": "PAK", "as_of": "2024-02-01"}
    before = _risk(client, params)
    series_params = {"from": "2024-01-10", "to": "2024-02-20", "step": 3}
    series = client.get("/v1/dyads/IRN--PAK/series", params=series_params)
    prior_params = {"a": "IND", "b": "PAK", "as_of": "2024-02-01"}
    prior = _risk(client, prior_params)
    assert before.json()["features"]["other_fronts_30d"] == 0
    assert prior.json()["features"]["other_fronts_30d"] == 2  # Pakistan's strike on the BLA in Iran: two dyads

    head = _head(client)
    later = event(IRAQ, source_event_id="2024-01-25-irn-irq", occurred_on="2024-01-25")
    pakistan = event(IRAQ, source_event_id="2024-01-24-pak-afg", occurred_on="2024-01-24",
                     actor1={"name": "Pakistan", "country": "PAK", "kind": "state"},
                     actor2={"name": "Afghanistan", "country": "AFG", "kind": "state"}, location={"country": "AFG"})
    assert client.post("/v1/events/batch", json={"items": [later, pakistan]}).status_code == 200
    assert _feed_since(client, head) == {"IRN--IRQ", "AFG--PAK"}  # nothing of IRN--PAK was redone

    after = _risk(client, params, etag=before.headers["etag"])
    assert after.status_code == 200 and after.json()["features"]["other_fronts_30d"] == 2
    assert after.json()["latest_assessment_id"] == before.json()["latest_assessment_id"]
    again = client.get("/v1/dyads/IRN--PAK/series", params=series_params,
                       headers={"If-None-Match": series.headers["etag"]})
    assert again.status_code == 200
    point = {p["as_of"]: p for p in again.json()["points"]}["2024-01-28"]
    assert point["probability"] == _risk(client, {"a": "IRN", "b": "PAK", "as_of": "2024-01-28"}).json()["probability"]
    assert point["probability"] != {p["as_of"]: p for p in series.json()["points"]}["2024-01-28"]["probability"]
    fresh_prior = _risk(client, prior_params, etag=prior.headers["etag"])
    assert fresh_prior.status_code == 200 and fresh_prior.json()["features"]["other_fronts_30d"] == 3


def test_the_ranking_reads_fronts_that_came_after_a_dyad_s_own_answer(client):
    from datetime import datetime, timedelta, timezone

    today = datetime.now(timezone.utc).date()
    strike = event(IRAN_STRIKE, occurred_on=(today - timedelta(days=10)).isoformat())
    client.post("/v1/events", json=strike)

    def ranked() -> dict:
        return {d["id"]: d["current"] for d in client.get("/v1/dyads").json()["items"]}

    assert ranked()["IRN--PAK"]["features"]["other_fronts_30d"] == 0
    head = _head(client)
    iraq = event(IRAQ, occurred_on=(today - timedelta(days=5)).isoformat())
    client.post("/v1/events", json=iraq)
    assert _feed_since(client, head) == {"IRN--IRQ"}
    now = ranked()["IRN--PAK"]
    assert now["features"]["other_fronts_30d"] == 1
    dyad = client.get("/v1/dyads/IRN--PAK").json()["current"]
    assert dyad["probability"] == now["probability"]
