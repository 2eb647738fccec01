"""/dashboard over HTTP: the page and its assets; each view's numbers equal the API's; names, empty states, scopes."""

import json

from fastapi.testclient import TestClient

from app.config import Settings
from app.dashboard import geometry
from app.main import create_app
from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION

KEY = "dashboard-unit-test-bootstrap-key-0123456789"


def test_page_and_assets_are_small_self_contained_and_need_no_key(client):
    page = client.get("/dashboard")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "http://" not in page.text and "https://" not in page.text  # nothing from a CDN
    total = len(page.content)
    for asset in ("/dashboard/static/dashboard.js", "/dashboard/static/dashboard.css"):
        r = client.get(asset)
        assert r.status_code == 200 and "https://" not in r.text
        total += len(r.content)
    assert total < 200_000


def test_ranking_is_compact_named_filtered_and_read_scoped(client, settings, scorer):
    client.post("/v1/events/batch", json=[IRAN_STRIKE, PAKISTAN_RETALIATION])
    ranking = client.get("/dashboard/ranking").json()
    assert not ranking["truncated"] and len(ranking["items"]) == 3 and ranking["total"] == 3
    full = client.get("/v1/dyads").json()["items"]
    assert [r["id"] for r in ranking["items"]] == [d["id"] for d in full]  # the same order as the API's
    row = next(r for r in ranking["items"] if r["id"] == "IRN--PAK")
    assert set(row) == {"id", "members", "kind", "level", "probability", "low", "high", "last_event_on", "event_count"}
    assert row["event_count"] == 2 and row["members"] == ["IRN", "PAK"]
    assert row["low"] <= row["probability"] <= row["high"]
    assert ranking["names"] == {"IRN": "Iran", "PAK": "Pakistan", "nsa:jaish-al-adl": "Jaish al-Adl",
                                "nsa:baluchistan-liberation-army": "Baluchistan Liberation Army"}
    assert ranking["data"] == {"first": "2024-01-16", "last": "2024-01-18"}
    assert [r["id"] for r in client.get("/dashboard/ranking", params={"country": "irn"}).json()["items"]] == [
        d["id"] for d in client.get("/v1/dyads", params={"country": "IRN"}).json()["items"]]
    critical = client.get("/dashboard/ranking", params={"min_level": "critical"}).json()
    assert critical["items"] == [] and critical["total"] == 3 and sum(critical["levels"].values()) == 3
    assert client.get("/dashboard/ranking", params={"country": "XXX"}).status_code == 422
    with TestClient(create_app(Settings(**{**settings.model_dump(), "bootstrap_api_key": KEY}), scorer)) as c:
        assert c.get("/dashboard/ranking").status_code == 401
        assert c.get("/dashboard/ranking", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
        for path in ("/dashboard/dyads/IRN--PAK", "/dashboard/countries/IRN"):
            assert c.get(path).status_code == 401


def test_a_ranking_as_of_a_date_equals_the_apis_answers_and_leaves_out_later_dyads(client):
    client.post("/v1/events", json=IRAN_STRIKE)
    client.post("/v1/events", json=PAKISTAN_RETALIATION)
    on_17th = client.get("/dashboard/ranking", params={"as_of": "2024-01-17"}).json()
    assert on_17th["as_of"] == "2024-01-17" and sorted(r["id"] for r in on_17th["items"]) == ["IRN--PAK", "IRN--nsa:jaish-al-adl"]
    for row in on_17th["items"]:
        answer = client.get("/v1/risk", params={"a": row["members"][0], "b": row["members"][1], "as_of": "2024-01-17"}).json()
        assert (row["probability"], row["level"], row["low"]) == (answer["probability"], answer["level"],
                                                                  answer["interval"]["low"])
    before = client.get("/dashboard/ranking", params={"as_of": "2023-06-01"}).json()
    assert before["items"] == [] and before["total"] == 0 and before["data"]["first"] == "2024-01-16"
    for bad in ("2024-13-01", "1799-12-31", "2999-01-01"):
        r = client.get("/dashboard/ranking", params={"as_of": bad})
        assert r.status_code == 422 and r.json()["field"] in ("as_of", "query.as_of"), r.text


def test_a_dyads_workbench_equals_the_api_through_time(client):
    client.post("/v1/events/batch", json=[IRAN_STRIKE, PAKISTAN_RETALIATION])
    view = client.get("/dashboard/dyads/IRN--PAK", params={"as_of": "2024-02-20"}).json()
    assert view["names"] == {"IRN": "Iran", "PAK": "Pakistan"} and view["as_of"] == "2024-02-20"
    assert view["current"] == client.get("/v1/risk", params={"a": "IRN", "b": "PAK", "as_of": "2024-02-20"}).json()
    series = view["series"]
    first, last = series["points"][0]["as_of"], series["points"][-1]["as_of"]
    assert first == "2023-11-17" and last == "2024-02-20"  # from 60 days before the first event
    assert series == client.get("/v1/dyads/IRN--PAK/series",
                                params={"from": first, "to": last, "step": series["step_days"]}).json()
    assert [e["occurred_on"] for e in view["events"]] == ["2024-01-18", "2024-01-16"]  # newest first
    assert view["events"][0]["where"] == "Sistan and Baluchestan, Iran" and view["events"][0]["retaliation"]
    assert [s["as_of"] for s in view["stored"]] == ["2024-01-18"]
    assert view["marks"] == [{"on": "2024-01-16", "events": 1, "fatalities": 2, "hostility": 4},
                             {"on": "2024-01-18", "events": 1, "fatalities": 9, "hostility": 4}]
    earlier = client.get("/dashboard/dyads/IRN--PAK", params={"as_of": "2024-01-17"}).json()
    assert [e["occurred_on"] for e in earlier["events"]] == ["2024-01-16"] and earlier["stored"] == []
    assert client.get("/dashboard/dyads/NOPE--NADA").status_code == 404


def test_a_countrys_fronts_with_small_charts(client):
    client.post("/v1/events/batch", json=[IRAN_STRIKE, PAKISTAN_RETALIATION])
    view = client.get("/dashboard/countries/irn", params={"as_of": "2024-01-20"}).json()
    assert view["country"] == "IRN" and view["name"] == "Iran"
    assert sorted(r["id"] for r in view["items"]) == ["IRN--PAK", "IRN--nsa:jaish-al-adl"]
    assert len(view["spark_dates"]) == 27 and view["spark_dates"][-1] == "2024-01-20"
    assert [r["probability"] for r in view["items"]] == sorted((r["probability"] for r in view["items"]), reverse=True)
    row = next(r for r in view["items"] if r["id"] == "IRN--PAK")
    assert len(row["spark"]) == 27 and row["spark"][-1] == row["probability"] and row["spark"][0] < row["probability"]
    assert client.get("/dashboard/countries/XXX").status_code == 422


def test_the_map_outlines_are_keyed_by_iso3_and_carry_their_licence(client):
    r = client.get("/dashboard/world.json")
    assert r.status_code == 200
    ids = {g["id"] for g in r.json()["objects"]["countries"]["geometries"]}
    assert {"IRN", "PAK", "SYR", "XKX", "RUS"} <= ids
    licence = (geometry.TOPOLOGY.parent / "LICENSE").read_text()
    assert "ISC" in (geometry.TOPOLOGY.parent / "SOURCE.txt").read_text() and "Permission to use" in licence
    assert json.loads(geometry.TOPOLOGY.read_text())["type"] == "Topology"
