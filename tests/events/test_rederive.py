"""Derived links: two states fighting on a third's soil make no link with the host, at ingest and in training
(one rule, `links_for`), and `escalation rederive` re-links events stored under the earlier rule."""

from datetime import UTC, datetime

from sqlalchemy import select

from app import cli
from app.database import make_engine, make_sessionmaker
from app.events.dyads import facts_for
from app.events.models import Dyad, EventDyad
from app.events.schemas import EventCreate
from app.risk.models import Assessment
from tests.factories import IRAN_STRIKE, event

IRAN_ISRAEL_IN_SYRIA = event(
    source_event_id="irn-isr-syr", actor1={"name": "Government of Iran", "country": "IRN", "kind": "state"},
    actor2={"name": "Government of Israel", "country": "ISR", "kind": "state"}, location={"country": "SYR"},
    action="clash", fatalities=12, civilian_fatalities=0)


def test_two_states_fighting_on_a_third_soil_make_no_link_with_the_host():
    links = [link.dyad_id for link, _ in facts_for(EventCreate.model_validate(IRAN_ISRAEL_IN_SYRIA))]
    assert links == ["IRN--ISR"]
    seed = {link.dyad_id for link, _ in facts_for(EventCreate.model_validate(IRAN_STRIKE))}
    assert seed == {"IRN--nsa:jaish-al-adl", "IRN--PAK"}  # a non-state target: the host is linked


def _stored_under_the_earlier_rule(client, settings) -> tuple[int, object]:
    """Iran and Israel fighting in Syria, linked IRN--SYR as the earlier rule stored it, and the seed's strike (a
    territorial link today's rule keeps): the Syria event's id and a write sessionmaker."""
    event_id = client.post("/v1/events", json=IRAN_ISRAEL_IN_SYRIA).json()["id"]
    client.post("/v1/events", json=IRAN_STRIKE)
    factory = make_sessionmaker(make_engine(settings.resolved_database_url), writer=True)
    with factory.begin() as s:
        s.add(Dyad(id="IRN--SYR", member_a="IRN", member_b="SYR", kind="state_state", created_at=datetime.now(UTC)))
        s.flush()
        s.add(EventDyad(event_id=event_id, dyad_id="IRN--SYR", initiator="IRN", target="SYR", territorial=True,
                        occurred_on=datetime.fromisoformat(IRAN_ISRAEL_IN_SYRIA["occurred_on"]).date()))
    assert {d["id"] for d in client.get(f"/v1/events/{event_id}").json()["dyads"]} == {"IRN--ISR", "IRN--SYR"}
    return event_id, factory


def test_rederive_removes_a_link_the_earlier_rule_made_and_reassesses_the_dyad(client, settings, monkeypatch,
                                                                                capsys):
    event_id, factory = _stored_under_the_earlier_rule(client, settings)
    engine = factory.kw["bind"]
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["rederive", "--batch-size", "1"]) == 0
    # IRN--SYR left; the other dyads of Iran assessed as of that day read the event as a front no more: redone
    assert "examined 2 events; relinked 1; assessments written 4" in capsys.readouterr().out
    assert {d["id"] for d in client.get(f"/v1/events/{event_id}").json()["dyads"]} == {"IRN--ISR"}
    with factory() as s:
        assert s.scalars(select(EventDyad.dyad_id).where(EventDyad.event_id == event_id)).all() == ["IRN--ISR"]
        reasons = s.scalars(select(Assessment.reason).where(Assessment.dyad_id == "IRN--SYR")).all()
    engine.dispose()
    assert reasons == ["relinked"]  # the dyad it left: now without the event (its no-event answer)
    risk = client.get("/v1/risk", params={"a": "IRN", "b": "SYR"}).json()
    assert risk["event_count"] == 0
    assert cli.main(["rederive"]) == 0  # nothing left to change
    assert "relinked 0" in capsys.readouterr().out


def test_ctrl_c_during_a_rederive_batch_stops_it_once_the_batch_is_committed(client, settings, monkeypatch, capsys):
    """Raised inside the batch's database calls, Ctrl-C rolled the batch back (and on PostgreSQL could fail the
    rollback: 'another command is already in progress'). It now waits for the batch to commit, then stops."""
    import os
    import signal

    from app.risk import flow

    event_id, factory = _stored_under_the_earlier_rule(client, settings)
    relink = flow.relink

    def interrupted(*args, **kwargs):  # Ctrl-C in the middle of the first batch
        os.kill(os.getpid(), signal.SIGINT)
        return relink(*args, **kwargs)

    monkeypatch.setattr(flow, "relink", interrupted)
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["rederive", "--batch-size", "1"]) == 130
    assert "interrupted after 1 events, which are committed" in capsys.readouterr().err
    with factory() as s:  # the first batch, the Syria event, is committed
        assert s.scalars(select(EventDyad.dyad_id).where(EventDyad.event_id == event_id)).all() == ["IRN--ISR"]
    factory.kw["bind"].dispose()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # pytest's handler is back
