"""Export: the same rows as the API's answers, as CSV (streamed) or Parquet (typed), over HTTP and from the
command line; bad parameters are a 422 or exit 2."""

import csv
import io

import pyarrow.parquet as pq

from app import cli
from app.export import service
from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION, many


def _csv(response) -> list[dict]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


def test_events_and_assessments_as_csv_equal_the_api(client):
    client.post("/v1/events/batch", json=[IRAN_STRIKE, PAKISTAN_RETALIATION])
    r = client.get("/v1/export/events")
    assert r.headers["content-type"].startswith("text/csv") and 'filename="events.csv"' in r.headers[
        "content-disposition"]
    rows = _csv(r)
    api = client.get("/v1/events").json()["items"]
    assert [int(x["id"]) for x in rows] == [e["id"] for e in api]
    assert list(rows[0]) == [name for name, _ in service.EVENTS.columns]
    assert rows[1]["weapons"] == ";".join(api[1]["weapons"]) and rows[1]["retaliation"] == "True"
    assert rows[0]["location_admin1"] == "Balochistan" and rows[0]["actor2_country"] == ""
    feed = client.get("/v1/assessments").json()["items"]
    exported = _csv(client.get("/v1/export/assessments"))
    assert [(int(x["id"]), float(x["probability"]), float(x["low"])) for x in exported] == [
        (a["id"], a["probability"], a["interval"]["low"]) for a in feed]
    assert [x["dyad_id"] for x in _csv(client.get("/v1/export/assessments", params={"dyad": "IRN--PAK"}))] == [
        "IRN--PAK"]
    assert _csv(client.get("/v1/export/assessments", params={"after": feed[-1]["id"]})) == []


def test_parquet_keeps_the_types_and_the_ranking_and_series_equal_the_api(client):
    client.post("/v1/events/batch", json=[IRAN_STRIKE, PAKISTAN_RETALIATION])
    r = client.get("/v1/export/ranking", params={"as_of": "2024-01-20"}, headers={"Accept": "application/vnd.apache.parquet"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(r.content))
    assert table.schema.field("probability").type == "double" and str(table.schema.field("as_of").type) == "date32[day]"
    ranked = table.to_pylist()
    api = client.get("/v1/dyads").json()["items"]  # as of today; the export above is as of 2024-01-20
    assert {row["dyad_id"] for row in ranked} == {d["id"] for d in api}
    on_20th = client.get("/v1/risk", params={"a": "IRN", "b": "PAK", "as_of": "2024-01-20"}).json()
    row = next(x for x in ranked if x["dyad_id"] == "IRN--PAK")
    assert (row["probability"], row["level"], row["low"]) == (on_20th["probability"], on_20th["level"],
                                                              on_20th["interval"]["low"])
    params = {"from": "2024-01-01", "to": "2024-03-01", "step": 10}
    series = client.get("/v1/dyads/IRN--PAK/series", params=params).json()["points"]
    exported = _csv(client.get("/v1/export/series/IRN--PAK", params={**params, "format": "csv"}))
    assert [(x["as_of"], float(x["probability"])) for x in exported] == [(p["as_of"], p["probability"]) for p in series]
    events = pq.read_table(io.BytesIO(client.get("/v1/export/events", params={"format": "parquet"}).content))
    assert events.num_rows == 2 and events.schema.field("fatalities").type == "int64"


def test_a_large_export_streams_every_row_once(client, monkeypatch):
    monkeypatch.setattr(service, "PAGE", 50)  # many pages, each read with a session of its own
    assert client.post("/v1/events/batch", json=many(230)).status_code == 200
    rows = _csv(client.get("/v1/export/events"))
    assert len(rows) == 230 and len({r["id"] for r in rows}) == 230
    table = pq.read_table(io.BytesIO(client.get("/v1/export/events", params={"format": "parquet"}).content))
    assert table.num_rows == 230


def test_bad_export_parameters(client):
    for path, params, field in [("/v1/export/events", {"format": "xlsx"}, "format"),
                                ("/v1/export/events", {"since": "2999-01-01"}, "since"),
                                ("/v1/export/ranking", {"country": "XXX"}, "country"),
                                ("/v1/export/series/IRN--PAK", {"from": "2024-02-01", "to": "2024-01-01"}, "from")]:
        r = client.get(path, params=params)
        assert r.status_code == 422 and field in r.json()["field"], (path, params, r.text)
    assert client.get("/v1/export/series/NOPE--NADA").status_code == 404


def test_the_command_exports_the_same_tables(settings, monkeypatch, capsys, tmp_path, client):
    client.post("/v1/events/batch", json=[IRAN_STRIKE, PAKISTAN_RETALIATION])
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["export", "events"]) == 0
    out, err = capsys.readouterr()
    assert [r["source_event_id"] for r in csv.DictReader(io.StringIO(out))] == [IRAN_STRIKE["source_event_id"],
                                                                                  PAKISTAN_RETALIATION["source_event_id"]]
    assert "exported 2 events rows as csv" in err
    path = tmp_path / "series.parquet"
    assert cli.main(["export", "series", "--dyad", "IRN--PAK", "--from", "2024-01-01", "--to", "2024-02-01",
                     "--format", "parquet", "-o", str(path)]) == 0
    assert pq.read_table(path).num_rows == 6
    assert cli.main(["export", "series"]) == 2  # no dyad
    assert cli.main(["export", "events", "--format", "parquet"]) == 2  # binary to a terminal
    assert cli.main(["export", "series", "--dyad", "NOPE--NADA"]) == 3


def test_the_documented_columns_are_the_exported_ones():
    import re

    from tests.servers import ROOT

    text = (ROOT / "docs" / "api.md").read_text().split("## Export", 1)[1]
    for table in (service.EVENTS, service.ASSESSMENTS, service.RANKING, service.SERIES):
        listed = re.search(rf"^- {table.name}: (.+?)(?=^- |\Z)", text, re.M | re.S).group(1)
        names = [re.sub(r"\s*\(.*", "", n.strip()) for n in " ".join(listed.split()).split(", ")]
        assert names == [name for name, _ in table.columns], table.name
