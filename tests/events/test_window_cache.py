"""The window cache (app.events.history.WindowCache): a write that updates a cached window from the events
it changed must end with the window a whole read gives, through the real app and database, under
out-of-order dates, revisions that move an event's date or dyads, retractions of a dyad's first and
last events, and unchanged re-sends; and an entry holds only after its transaction commits."""

import json
import random
from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select, update

from app import errors
from app.events import history
from app.events.facts import EventFact
from app.events.models import Dyad
from app.events.schemas import EventCreate
from app.ml.features import LOOKBACK_DAYS
from app.risk import flow
from app.risk import service as risk_service
from app.risk.models import Assessment, DyadRisk

STATES = ["IRN", "PAK", "AFG"]
ACTIONS = ["attack", "clash", "talks", "ceasefire", "threat_to_use_force", "show_of_force", "war"]


def _event(rng: random.Random, key: str) -> dict:
    a, b = rng.sample(STATES, 2)
    actor2 = ({"name": b, "country": b, "kind": "state"} if rng.random() < 0.8 else
              {"name": "Jaish al-Adl", "kind": "non_state"})
    return {
        "source": "cache", "source_event_id": key,
        # ~3 years of dates: windows (425 days) start after a dyad's first event
        "occurred_on": (date(2020, 1, 1) + timedelta(days=rng.randrange(0, 1100))).isoformat(),
        "actor1": {"name": a, "country": a, "kind": "state"}, "actor2": actor2,
        "location": {"country": rng.choice(STATES)}, "action": rng.choice(ACTIONS),
        "fatalities": rng.choice([0, 1, 5]), "retaliation": rng.random() < 0.2,
    }


def _as_read(window: history.Window) -> tuple:
    return window.last_on, window.in_window, list(window.facts), window.event_ids.tolist()


IRN_PAK = {"actor1": {"name": "IRN", "country": "IRN", "kind": "state"},  # one dyad only: IRN--PAK
           "actor2": {"name": "PAK", "country": "PAK", "kind": "state"}, "location": {"country": "PAK"}}


def _other_worker(client, items: list[dict], cache: history.WindowCache | None = None) -> None:
    """A write by another worker: the same database, its own cache (or none)."""
    state = client.app.state
    with state.write_sessionmaker() as session:
        flow.ingest(session, state.scorer, [EventCreate.model_validate(e) for e in items], window_cache=cache)
        session.commit()


def _check(client, cache: history.WindowCache | None = None) -> int:
    """Every cached window that holds at its dyad's latest assessment equals a whole read; how many held."""
    state = client.app.state
    cache = cache or state.window_cache
    held = 0
    with state.sessionmaker() as session:
        latest = dict(session.execute(select(DyadRisk.dyad_id, DyadRisk.assessment_id)).all())
        dyads = sorted(session.scalars(select(Dyad.id)))
        whole = history.windows(session, dyads, LOOKBACK_DAYS)
        for d in dyads:
            cached = cache.get(d, latest[d]) if d in latest else None
            if cached is not None:
                held += 1
                assert _as_read(cached) == _as_read(whole[d]), d
        # what was stored is what a whole read gives: the latest assessment's features
        features = dict(session.execute(select(Assessment.dyad_id, Assessment.features)
                                        .join(DyadRisk, DyadRisk.assessment_id == Assessment.id)).all())
        scored = [d for d in features if whole[d].last_on is not None]
        fronts = risk_service.activity(session, [(d.split("--"), whole[d].last_on, whole[d].last_on) for d in scored])
        batch = [(whole[d].facts, whole[d].last_on,
                  state.scorer.context_for(*d.split("--"), whole[d].last_on, fronts)) for d in scored]
        for d, score in zip(scored, state.scorer.score_many(batch), strict=True):
            stored = features[d] if isinstance(features[d], dict) else json.loads(features[d])
            assert stored == json.loads(json.dumps(score.features)), d
    return held


@pytest.mark.parametrize("workers", [1, 2])
def test_cached_windows_equal_whole_reads(client, workers):
    """With two workers, the batches alternate between the app and a second worker with its own cache, each
    catching up with what the other wrote (from the assessments in between)."""
    rng = random.Random(11)
    state = client.app.state
    caches = [state.window_cache, history.WindowCache()][:workers]
    bodies: dict[str, dict] = {}
    hits = 0
    for step in range(24):
        items = []
        for _ in range(rng.randrange(5, 40)):
            roll = rng.random()
            if bodies and roll < 0.25:  # a revision: new date, often other actors (other dyads)
                key = rng.choice(list(bodies))
                revised = _event(rng, key)
                if rng.random() < 0.5:
                    revised["actor1"], revised["actor2"] = bodies[key]["actor1"], bodies[key]["actor2"]
                bodies[key] = revised
                items.append(revised)
            elif bodies and roll < 0.32:  # re-sent unchanged
                items.append(bodies[rng.choice(list(bodies))])
            else:
                key = f"c-{len(bodies)}"
                bodies[key] = _event(rng, key)
                items.append(bodies[key])
        cache = caches[step % workers]
        before = cache.updated
        if cache is state.window_cache:
            r = client.post("/v1/events/batch", json={"items": items})
            assert r.status_code == 200, r.text
        else:
            _other_worker(client, items, cache)
        hits += cache.updated - before
        if step % 4 == 3:  # retract some events, among them a dyad's first and a dyad's last
            live = client.get("/v1/events", params={"limit": 1000}).json()["items"]  # retracted ones are left out
            by_day = sorted(live, key=lambda e: (e["occurred_on"], e["id"]))
            for event in {by_day[0]["id"]: None, by_day[-1]["id"]: None, rng.choice(live)["id"]: None}:
                assert client.delete(f"/v1/events/{event}").status_code == 200
        for cache in caches:
            _check(client, cache)
    assert hits > 60  # windows the caches answered: the equality above is not only of whole reads
    assert sum(_check(client, cache) for cache in caches) > 3  # entries that hold at the end, all checked


def test_a_write_by_another_worker_is_caught_up_from_its_assessment(client):
    """Another process's write (no access to this cache) replaces the dyad's latest assessment, which names the
    events it changed: the next write here brings its own older window up to date with them instead of reading
    whole, and ends with what a whole read gives. An assessment that names none (made before the column
    existed) makes it read whole."""
    rng = random.Random(5)
    state = client.app.state

    def between_iran_and_pakistan(key: str) -> dict:
        return _event(rng, key) | IRN_PAK

    first = [between_iran_and_pakistan(f"w-{n}") for n in range(30)]
    assert client.post("/v1/events/batch", json={"items": first}).status_code == 200
    assert client.post("/v1/events/batch", json={"items": first[:3]}).status_code == 200  # unchanged: no write
    last = max(first, key=lambda e: e["occurred_on"])  # in the window (a changed first event is read whole)
    _other_worker(client, [between_iran_and_pakistan(f"other-{n}") for n in range(10)] + [last | {"fatalities": 40}])
    with state.sessionmaker() as session:
        changed = session.scalars(select(Assessment.changed_event_ids).order_by(Assessment.id.desc()).limit(1)).one()
    assert len(changed) == 11 and changed == sorted(changed)
    before = state.window_cache.updated
    later = [between_iran_and_pakistan(f"w-{n}") for n in range(30, 60)]
    assert client.post("/v1/events/batch", json={"items": later}).status_code == 200
    assert state.window_cache.updated == before + 1  # caught up, not read whole
    assert _check(client) == 1  # what was stored and cached equals a whole read, the other worker's events in

    _other_worker(client, [between_iran_and_pakistan(f"other-{n}") for n in range(10, 20)])
    with state.write_sessionmaker() as session:  # as if made before changes were recorded
        session.execute(update(Assessment).where(Assessment.id == select(func.max(Assessment.id)).scalar_subquery())
                        .values(changed_event_ids=None))
        session.commit()
    more = [between_iran_and_pakistan(f"w-{n}") for n in range(60, 70)]
    assert client.post("/v1/events/batch", json={"items": more}).status_code == 200
    assert state.window_cache.updated == before + 1  # read whole
    assert _check(client) == 1


@pytest.mark.parametrize("bound", ["CATCH_UP_IDS", "CATCH_UP_EVENTS"])
def test_a_catch_up_past_its_bounds_reads_whole(client, monkeypatch, bound):
    """Too far behind the newest assessment, or too many events to look up: the window is read whole, and
    what is stored and cached still equals a whole read."""
    rng = random.Random(9)
    state = client.app.state
    assert client.post("/v1/events/batch", json={"items": [_event(rng, f"b-{n}") | IRN_PAK
                                                           for n in range(20)]}).status_code == 200
    _other_worker(client, [_event(rng, f"o-{n}") | IRN_PAK for n in range(3)])  # 1 assessment after the cached one
    monkeypatch.setattr(risk_service, bound, 0)  # the cached entry is 1 id behind, the assessment names 3 events
    before = state.window_cache.updated
    assert client.post("/v1/events/batch", json={"items": [_event(rng, "b-20") | IRN_PAK]}).status_code == 200
    assert state.window_cache.updated == before
    assert _check(client) == 1
    monkeypatch.undo()  # within both bounds: the same situation is caught up
    _other_worker(client, [_event(rng, "o-3") | IRN_PAK])
    assert client.post("/v1/events/batch", json={"items": [_event(rng, "b-21") | IRN_PAK]}).status_code == 200
    assert state.window_cache.updated == before + 1
    assert _check(client) == 1


def test_savepoints_do_not_publish_entries(client):
    state = client.app.state
    cache = history.WindowCache()
    window = history.Window(date(2024, 1, 18), history.NONE, 0)
    with state.write_sessionmaker() as session:
        session.connection()
        with session.begin_nested() as savepoint:
            cache.stage(session, {"IRN--PAK": (1, window)})
            savepoint.rollback()  # the savepoint's work is undone
        session.commit()
    assert cache.get("IRN--PAK", 1) is None
    for version, outer_commits in ((2, False), (3, True)):  # a savepoint released, then the outer transaction ends
        with state.write_sessionmaker() as session:
            session.connection()
            with session.begin_nested():
                cache.stage(session, {"IRN--PAK": (version, window)})
            assert cache.get("IRN--PAK", version) is None  # released, but the outer transaction is still open
            if outer_commits:
                session.commit()
            else:
                session.rollback()
        assert (cache.get("IRN--PAK", version) is not None) is outer_commits


def test_an_entry_holds_only_after_its_transaction_commits(client):
    state = client.app.state
    cache = history.WindowCache()
    window = history.Window(date(2024, 1, 18), history.NONE, 0)
    with state.write_sessionmaker() as session:
        cache.stage(session, {"IRN--PAK": (7, window)})
        assert cache.get("IRN--PAK", 7) is None  # staged, not yet kept
        session.rollback()
    with state.write_sessionmaker() as session:
        session.connection()  # a transaction to commit
        session.commit()
    assert cache.get("IRN--PAK", 7) is None  # the rolled-back entry stayed out, also after a later commit
    session = state.write_sessionmaker()
    session.connection()
    cache.stage(session, {"IRN--PAK": (7, window)})
    session.close()  # abandoned: neither committed nor rolled back by the caller
    session.connection()  # the same session object, used again
    session.commit()
    assert cache.get("IRN--PAK", 7) is None
    with state.write_sessionmaker() as session:
        session.connection()
        cache.stage(session, {"IRN--PAK": (7, window)})
        session.commit()
    assert cache.get("IRN--PAK", 7).last_on == date(2024, 1, 18)
    assert cache.get("IRN--PAK", 8) is None  # another version: the dyad was written since


def test_the_cache_is_bounded_by_facts_held(client):
    cache = history.WindowCache(max_facts=5 + 2 * history.WindowCache.ENTRY)
    three = history.FactColumns.of([EventFact(date(2024, 1, d), "IRN", "PAK", hostility=4, rung=6) for d in (1, 2, 3)])
    with client.app.state.write_sessionmaker() as session:
        session.connection()
        for n, dyad in enumerate(["A--B", "A--C", "B--C"]):
            cache.stage(session, {dyad: (n, history.Window(date(2024, 1, 3), three, 3, np.arange(3)))})
        session.commit()
    # 3 facts and an entry's cost each, room for one and a half: the least recently used go first
    assert [cache.get(d, n) is not None for n, d in enumerate(["A--B", "A--C", "B--C"])] == [False, False, True]


def test_a_cached_window_keeps_only_the_members_it_names_past_the_limit():
    read = history.FactColumns.of([EventFact(date(2024, 1, 1), "IND", "AFG", hostility=2, rung=3),
                                   EventFact(date(2024, 1, 2), "PAK", None, hostility=2, rung=3),
                                   EventFact(date(2024, 1, 3), "IRN", "PAK", hostility=4, rung=6)])
    assert read.members == ("IND", "PAK", "IRN", "AFG")
    window = read.slice(1, 3)  # a view of the read: PAK (no target), then IRN against PAK
    kept = window.compact(max_members=1)
    assert kept.members == ("PAK", "IRN")
    assert list(kept) == list(window) and kept.target.tolist() == [-1, 0]
    assert not np.shares_memory(kept.day, read.day)
    assert window.compact().members == read.members  # under the limit: the codes stay as they are


def test_the_merge_puts_rows_in_dyad_day_event_order():
    """`_merged` (binary search of the new rows among the kept ones) agrees with a sort of all of them,
    with many ties of dyad and day to break by event id, ids just below the limit, and held rows dropped."""
    rng = np.random.default_rng(5)
    for n_held, n_new in ((0, 0), (0, 5), (5, 0), (200, 40), (2000, 300)):
        n = n_held + n_new
        which = rng.integers(0, 8, n)
        day = rng.integers(738_000, 738_010, n)
        ids = history._ID_LIMIT - 1 - rng.permutation(10 * n)[:n]
        held = np.lexsort((ids[:n_held], day[:n_held], which[:n_held]))
        kept = held[rng.random(n_held) < 0.8]  # as `flatnonzero(keep)`: the changed ones gone, the order kept
        new = n_held + np.lexsort((ids[n_held:], day[n_held:], which[n_held:]))
        merged = history._merged(which << history.DAY_BITS | day, ids, kept, new)
        rows = np.concatenate([kept, new])
        assert merged.tolist() == rows[np.lexsort((ids[rows], day[rows], which[rows]))].tolist()


@pytest.mark.parametrize("check", [True, False], ids=["check mode", "no check"])
def test_check_mode_fails_a_write_whose_cached_window_is_wrong(client, check, caplog):
    """ESCALATION_CHECK_FAST_PATHS (on in every test): a cached window that differs from a fresh read fails the write
    loudly (500, nothing stored) instead of scoring the wrong facts; without it the wrong window is trusted."""
    from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION

    cache = client.app.state.window_cache
    assert cache.check  # the suite runs with the checks on (tests/conftest.py)
    cache.check = check
    assert client.post("/v1/events", json=IRAN_STRIKE).status_code == 201
    version, window = cache._data["IRN--PAK"]
    cache._data["IRN--PAK"] = (version, history.Window(window.last_on))  # the held window loses its events
    if check:  # a 500 to the client; the mismatch is logged with its traceback and the request id
        with caplog.at_level("ERROR", logger="escalation.errors"):
            failed = client.post("/v1/events", json=PAKISTAN_RETALIATION, headers={"X-Request-ID": "mismatch-1"})
        assert failed.status_code == 500 and failed.headers["x-request-id"] == "mismatch-1"
        assert any(r.exc_info and isinstance(r.exc_info[1], errors.FastPathMismatch)
                   and "IRN--PAK's window differs from a fresh read" in str(r.exc_info[1]) for r in caplog.records)
        assert [e["source_event_id"] for e in client.get("/v1/events").json()["items"]] == [
            IRAN_STRIKE["source_event_id"]]  # the write was rolled back whole
        assert len(client.get("/v1/dyads/IRN--PAK/assessments").json()["items"]) == 1
    else:
        assert client.post("/v1/events", json=PAKISTAN_RETALIATION).status_code == 201
        assessed = client.get("/v1/dyads/IRN--PAK/assessments").json()["items"]
        assert assessed[-1]["event_count"] == 1  # scored from the wrong window: one event where there are two
