"""/dashboard over HTTP: the page and its assets, the chart endpoint's scope and shape, the SVG renderer."""

from datetime import date

from fastapi.testclient import TestClient

from app.config import Settings
from app.dashboard import chart
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


def test_chart_is_svg_with_points_thresholds_and_events(client):
    client.post("/v1/events/batch", json=[IRAN_STRIKE, PAKISTAN_RETALIATION])
    r = client.get("/dashboard/dyads/IRN--PAK/chart.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    svg = r.text
    assert svg.startswith("<svg") and svg.count('class="event"') == 2
    assert svg.count('class="point"') == 2  # the batch assessed the dyad once (as of its last event), and today
    assert 'class="risk"' in svg and "Pakistan Armed Forces" in svg
    assert client.get("/dashboard/dyads/NOPE--NADA/chart.svg").status_code == 404


def test_chart_needs_the_read_scope_when_keys_are_on(settings, scorer):
    with TestClient(create_app(Settings(**{**settings.model_dump(), "bootstrap_api_key": KEY}), scorer)) as c:
        assert c.get("/dashboard").status_code == 200  # the page itself asks for the key
        assert c.get("/dashboard/dyads/IRN--PAK/chart.svg").status_code == 401
        assert c.get("/dashboard/dyads/IRN--PAK/chart.svg", headers={"X-API-Key": KEY}).status_code == 404


def test_renderer_escapes_text_and_handles_an_empty_dyad():
    svg = chart.render([chart.Point(date(2024, 1, 1), 0.2, "high")],
                       [chart.Mark(date(2024, 1, 2), "<script>alert(1)</script> & co", 4)],
                       {"elevated": 0.1, "high": 0.15, "critical": None}, "A--B")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&amp; co" in svg
    assert "elevated ≥ 10.0%" in svg and "critical" not in svg
    assert "no assessments yet" in chart.render([], [], {}, "A--B")


def test_ranking_is_compact_filtered_and_read_scoped(client, settings, scorer):
    client.post("/v1/events/batch", json=[IRAN_STRIKE, PAKISTAN_RETALIATION])
    ranking = client.get("/dashboard/ranking").json()
    assert not ranking["truncated"] and len(ranking["items"]) == 3
    full = client.get("/v1/dyads").json()["items"]
    assert [r["id"] for r in ranking["items"]] == [d["id"] for d in full]  # the same order as the API's
    row = next(r for r in ranking["items"] if r["id"] == "IRN--PAK")
    assert set(row) == {"id", "members", "kind", "level", "probability", "low", "high", "last_event_on", "event_count"}
    assert row["event_count"] == 2 and row["members"] == ["IRN", "PAK"]
    assert row["low"] <= row["probability"] <= row["high"]
    assert [r["id"] for r in client.get("/dashboard/ranking", params={"country": "irn"}).json()["items"]] == [
        d["id"] for d in client.get("/v1/dyads", params={"country": "IRN"}).json()["items"]]
    assert client.get("/dashboard/ranking", params={"min_level": "critical"}).json()["items"] == []
    assert client.get("/dashboard/ranking", params={"country": "XXX"}).status_code == 422
    with TestClient(create_app(Settings(**{**settings.model_dump(), "bootstrap_api_key": KEY}), scorer)) as c:
        assert c.get("/dashboard/ranking").status_code == 401
        assert c.get("/dashboard/ranking", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
