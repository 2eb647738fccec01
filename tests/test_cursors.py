"""Cursors: only the decimal numbers the service issued are read; anything else is a 422 with the error body."""

import pytest

from tests.factories import IRAN_STRIKE

# str.isdigit() accepts these, int() does not: they used to reach int() and answer 500.
NOT_ASCII_DIGITS = ["²", "¹", "①", "1²", "٣", "１"]
PAGED = [("/v1/assessments", "after"), ("/v1/events", "cursor"), ("/v1/dyads", "cursor"),
         ("/v1/dyads/IRN--PAK/assessments", "cursor")]


@pytest.mark.parametrize(("path", "param"), PAGED)
@pytest.mark.parametrize("value", NOT_ASCII_DIGITS + ["abc", "-1", " 1", "1.0"])
def test_a_cursor_not_in_ascii_digits_is_a_422(client, path, param, value):
    client.post("/v1/events", json=IRAN_STRIKE)
    r = client.get(path, params={param: value})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "validation_error" and body["field"] == "cursor" and set(body) >= {"detail", "errors"}


@pytest.mark.parametrize(("path", "param"), PAGED)
def test_an_issued_cursor_is_read(client, path, param):
    client.post("/v1/events", json=IRAN_STRIKE)
    assert client.get(path, params={param: "0"}).status_code == 200
    assert client.get(path, params={param: ""}).status_code == 200
