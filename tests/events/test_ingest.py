"""POST /v1/events and /v1/events/batch: storage, idempotency, revisions, retraction."""

from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION, event, many


def test_seed_event_is_stored_with_derived_fields_and_dyads(client):
    r = client.post("/v1/events", json=IRAN_STRIKE)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "created" and body["revision"] == 1
    assert body["hostility"] == 4 and body["hostility_label"] == "use_of_force"
    assert body["weapons"] == ["drone", "missile"]
    dyads = {d["id"]: d for d in body["dyads"]}
    assert set(dyads) == {"IRN--nsa:jaish-al-adl", "IRN--PAK"}
    assert dyads["IRN--PAK"] == {"id": "IRN--PAK", "kind": "state_state", "initiator": "IRN", "target": "PAK",
                                 "territorial": True}
    assert client.get(f"/v1/events/{body['id']}").json()["source_event_id"] == IRAN_STRIKE["source_event_id"]


def test_resending_identical_event_returns_same_event_without_duplicate(client):
    first = client.post("/v1/events", json=IRAN_STRIKE).json()
    again = client.post("/v1/events", json=IRAN_STRIKE)
    assert again.status_code == 200
    assert again.json()["id"] == first["id"] and again.json()["status"] == "unchanged"
    assert again.json()["revision"] == 1
    assert len(client.get("/v1/events").json()["items"]) == 1


def test_changed_content_makes_a_new_revision_and_keeps_the_old_one(client):
    first = client.post("/v1/events", json=IRAN_STRIKE).json()
    corrected = client.post("/v1/events", json=event(fatalities=3, civilian_fatalities=2))
    assert corrected.status_code == 200
    assert corrected.json()["status"] == "revised" and corrected.json()["revision"] == 2
    assert corrected.json()["fatalities"] == 3 and corrected.json()["id"] == first["id"]
    revisions = client.get(f"/v1/events/{first['id']}/revisions").json()
    assert [(r["revision"], r["change"], r["payload"]["fatalities"]) for r in revisions] == [
        (1, "created", 2), (2, "revised", 3)]


def test_revision_that_changes_actors_moves_the_event_between_dyads(client):
    created = client.post("/v1/events", json=IRAN_STRIKE).json()
    moved = client.post("/v1/events", json=event(actor2={"name": "Pakistan", "country": "PAK", "kind": "state"}))
    assert [d["id"] for d in moved.json()["dyads"]] == ["IRN--PAK"]
    assert client.get("/v1/events", params={"dyad": "IRN--nsa:jaish-al-adl"}).json()["items"] == []
    assert client.get("/v1/events", params={"dyad": "IRN--PAK"}).json()["items"][0]["id"] == created["id"]


def test_retraction_keeps_a_tombstone_visible_on_request(client):
    created = client.post("/v1/events", json=IRAN_STRIKE).json()
    gone = client.delete(f"/v1/events/{created['id']}")
    assert gone.status_code == 200 and gone.json()["retracted_at"] is not None
    assert client.get("/v1/events").json()["items"] == []
    listed = client.get("/v1/events", params={"include_retracted": True}).json()["items"]
    assert [e["id"] for e in listed] == [created["id"]]
    again = client.delete(f"/v1/events/{created['id']}")
    assert again.status_code == 200 and again.json()["revision"] == gone.json()["revision"]
    assert client.delete("/v1/events/999999").json()["error"] == "not_found"


def test_event_without_target_is_allowed_below_use_of_force(client):
    body = event(source_event_id="alert-1", action="alert", fatalities=None, civilian_fatalities=None)
    del body["actor2"]
    r = client.post("/v1/events", json=body)
    assert r.status_code == 201, r.text
    assert [d["id"] for d in r.json()["dyads"]] == ["IRN--PAK"]


def test_acled_and_cameo_vocabularies_map_onto_the_ladder(client):
    acled = event(source_event_id="acled-1", action=None, event_type="Explosions/Remote violence",
                  sub_event_type="Air/drone strike", weapons=[])
    cameo = event(source_event_id="cameo-1", action=None, cameo_code="138", weapons=[], fatalities=0,
                  civilian_fatalities=0)
    a, c = client.post("/v1/events", json=acled).json(), client.post("/v1/events", json=cameo).json()
    assert (a["action"], a["weapons"], a["hostility"]) == ("attack", ["airstrike"], 4)
    assert (c["action"], c["hostility"]) == ("threat_to_use_force", 2)


def test_responds_to_links_a_retaliation_to_the_event_it_answers(client):
    first = client.post("/v1/events", json=IRAN_STRIKE).json()
    second = client.post("/v1/events", json=event(PAKISTAN_RETALIATION, responds_to=first["id"])).json()
    assert second["responds_to"] == first["id"]
    bad = client.post("/v1/events", json=event(PAKISTAN_RETALIATION, source_event_id="x", responds_to=424242))
    assert bad.status_code == 422 and bad.json()["field"] == "responds_to"


def test_an_event_cannot_respond_to_itself(client):
    stored = client.post("/v1/events", json=IRAN_STRIKE).json()
    key, answer = IRAN_STRIKE["source_event_id"], PAKISTAN_RETALIATION["source_event_id"]
    cases = [  # (path, body, field): by its key, by its own key earlier in the batch, by its id on revision
        ("/v1/events", event(PAKISTAN_RETALIATION, responds_to=answer), "responds_to"),
        ("/v1/events/batch", {"items": [PAKISTAN_RETALIATION, event(PAKISTAN_RETALIATION, fatalities=10,
                                                                    responds_to=answer)]}, "items.1.responds_to"),
        ("/v1/events", event(IRAN_STRIKE, responds_to=stored["id"]), "responds_to"),
        ("/v1/events", event(IRAN_STRIKE, responds_to=key), "responds_to"),
    ]
    for path, body, field in cases:
        r = client.post(path, json=body)
        assert r.status_code == 422 and r.json()["field"] == field, (field, r.text)
        assert r.json()["errors"][0]["type"] == "self_reference"
    listed = client.get("/v1/events").json()["items"]
    assert listed == [client.get(f"/v1/events/{stored['id']}").json()]  # nothing else written


def test_batch_stores_all_items_with_per_item_results(client):
    items = many(30)
    items.append(items[0])  # a re-send inside the same batch is recognised, not duplicated
    r = client.post("/v1/events/batch", json={"items": items})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["created"], body["unchanged"], body["revised"]) == (30, 1, 0)
    assert body["items"][30]["id"] == body["items"][0]["id"]
    assert [i["index"] for i in body["items"]] == list(range(31))
    listed = client.get("/v1/events", params={"limit": 1000}).json()["items"]
    assert len(listed) == 30


def test_batch_revises_existing_events(client):
    client.post("/v1/events/batch", json={"items": many(5)})
    changed = many(5)
    changed[2]["fatalities"] = 40
    body = client.post("/v1/events/batch", json={"items": changed}).json()
    assert [i["status"] for i in body["items"]] == ["unchanged", "unchanged", "revised", "unchanged", "unchanged"]


def test_listing_filters_and_paginates_with_a_cursor(client):
    client.post("/v1/events/batch", json={"items": many(25)})
    seen, cursor = [], None
    while True:
        page = client.get("/v1/events", params={"country": "PAK", "limit": 4, **({"cursor": cursor} if cursor else {})}).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 10 and len({e["id"] for e in seen}) == 10
    assert all("PAK" in (e["actor1"]["country"], e["actor2"]["country"], e["location"]["country"]) for e in seen)
    dated = client.get("/v1/events", params={"since": "2010-01-10", "until": "2010-01-20", "limit": 100}).json()
    assert dated["items"] and len(dated["items"]) == 11 and all("2010-01-10" <= e["occurred_on"] <= "2010-01-20" for e in dated["items"])


def test_a_corrected_resend_of_a_retracted_event_is_recorded_but_stays_retracted(client):
    created = client.post("/v1/events", json=IRAN_STRIKE).json()
    client.delete(f"/v1/events/{created['id']}")
    resent = client.post("/v1/events", json=event(fatalities=5, civilian_fatalities=2)).json()
    assert resent["status"] == "revised" and resent["retracted_at"] is not None
    assert client.get("/v1/events").json()["items"] == []
    changes = [r["change"] for r in client.get(f"/v1/events/{created['id']}/revisions").json()]
    assert changes == ["created", "retracted", "revised"]


def test_names_without_latin_letters_get_distinct_stable_ids(client):
    a = client.post("/v1/events", json=event(source_event_id="ar1", actor2={"name": "طالبان", "kind": "non_state"})).json()
    b = client.post("/v1/events", json=event(source_event_id="ar2",
                                              actor2={"name": "الدولة الإسلامية", "kind": "non_state"})).json()
    ids = {d["id"] for d in a["dyads"] + b["dyads"] if "nsa:" in d["id"]}
    assert len(ids) == 2 and all("nsa:x-" in i for i in ids)
