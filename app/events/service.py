"""Ingest (idempotent, revisioned), retraction and queries over stored events. Services flush, never commit."""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from app import errors
from app.database import insert_ignore, insert_new, reserve_ids, written_here
from app.events import dyads as dyad_rules
from app.events import references, vocabulary
from app.events.models import Dyad, Event, EventDyad, EventRevision
from app.events.schemas import Actor, DyadRef, EventCreate, EventRead, Location
from app.observability import EVENTS_INGESTED


@dataclass
class Ingested:
    event_id: int
    status: str  # created | unchanged | revised | retracted
    # Dyads whose history changed: the event's current dyads plus any it left on revision.
    touched: dict[str, date] = field(default_factory=dict)


def _payload(item: EventCreate) -> tuple[dict, str]:
    """The event as JSON-ready data (kept as its revision) and the hash that recognises a re-send."""
    payload = item.model_dump(mode="json")
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return payload, hashlib.sha256(canonical.encode()).hexdigest()


def _row(item: EventCreate) -> dict:
    action, implied = item.resolved_action()
    a1, a2, where = item.actor1, item.actor2, item.location
    occurred_at = item.occurred_on if isinstance(item.occurred_on, datetime) else None
    return {
        "occurred_on": dyad_rules.occurred_day(item.occurred_on),
        "occurred_at": occurred_at,
        "actor1_name": a1.name, "actor1_kind": a1.kind.value, "actor1_country": a1.country,
        "actor1_member": dyad_rules.member_id(a1, where.country),
        "actor2_name": a2.name if a2 else None, "actor2_kind": a2.kind.value if a2 else None,
        "actor2_country": a2.country if a2 else None,
        "actor2_member": dyad_rules.member_id(a2, where.country) if a2 else None,
        "location_country": where.country, "location_admin1": where.admin1,
        "latitude": where.latitude, "longitude": where.longitude,
        "action": action.name, "hostility": action.hostility,
        "event_type": item.event_type, "sub_event_type": item.sub_event_type, "cameo_code": item.cameo_code,
        "fatalities": item.fatalities, "civilian_fatalities": item.civilian_fatalities, "injured": item.injured,
        "weapons": sorted(set(item.weapons) | set(implied)),
        "retaliation": item.retaliation, "responds_to_id": item.responds_to, "notes": item.notes,
    }


def ingest(session: Session, items: Sequence[EventCreate], now: datetime | None = None,
           field_prefix: str = "") -> list[Ingested]:
    """Store new events, revise changed ones, recognise re-sent ones; one result per item, in order.

    Items are applied as if posted one after another: a key repeated within one request is
    created by its first copy and revised (or recognised) by the later ones. `field_prefix`
    names the items in errors (`items.` for a batch).
    """
    now = now or datetime.now(timezone.utc)
    references.check(session, items, field_prefix)
    _add_dyads(session, items, now)
    results: list[Ingested] = []
    for run in references.resolved_runs(session, items):
        results += _ingest_run(session, run, now)
    for r in results:
        EVENTS_INGESTED.labels(r.status).inc()
    return results


def _ingest_run(session: Session, items: Sequence[EventCreate], now: datetime) -> list[Ingested]:
    keys = [(i.source, i.source_event_id) for i in items]
    # New keys are inserted before any existing event is locked, and both in key order: writers
    # that share keys then wait on each other in one order and cannot deadlock.
    known = _load(session, set(keys), lock=False).keys()
    first_new: dict[tuple[str, str], int] = {}
    for n, key in enumerate(keys):
        if key not in known and key not in first_new:
            first_new[key] = n
    results: list[Ingested | None] = [None] * len(items)
    created = _create(session, [items[n] for n in first_new.values()], now)
    for key, n in first_new.items():
        results[n] = created.get(key)  # absent: a concurrent writer created it first
    if None in results:
        existing = _load(session, {k for n, k in enumerate(keys) if results[n] is None}, lock=True)
        for n, item in enumerate(items):
            if results[n] is None:
                event, (payload, digest) = existing[keys[n]], _payload(item)
                same = event.content_hash == digest
                results[n] = (Ingested(event.id, "unchanged") if same
                              else _revise(session, event, item, payload, digest, now))
    return results  # type: ignore[return-value]


def _add_dyads(session: Session, items: Sequence[EventCreate], now: datetime) -> None:
    """Create the items' dyads first, in id order: concurrent writers then wait on each other's
    new dyads in one order (no deadlock), before either locks any event."""
    rows = {link.dyad_id: {"id": link.dyad_id, "member_a": link.member_a, "member_b": link.member_b,
                           "kind": link.kind, "created_at": now}
            for item in items for link in dyad_rules.links_for(item)}
    if rows:
        insert_ignore(session, Dyad, [rows[d] for d in sorted(rows)])


def _load(session: Session, keys: set[tuple[str, str]], *, lock: bool) -> dict[tuple[str, str], Event]:
    found: dict[tuple[str, str], Event] = {}
    by_source: dict[str, list[str]] = {}
    for source, source_event_id in sorted(keys):
        by_source.setdefault(source, []).append(source_event_id)
    # One source at a time: PostgreSQL plans a row-value IN list as a scan, but this as an index lookup.
    # Row locks, taken in key order, make a concurrent revision of the same event wait for ours; NO KEY
    # UPDATE so that foreign-key checks of rows referencing the event (responds_to) do not wait on it.
    for source, ids in by_source.items():
        for chunk in _chunks(ids, 1000):
            stmt = select(Event).where(Event.source == source, Event.source_event_id.in_(chunk))
            if lock:
                stmt = (stmt.order_by(Event.source_event_id).with_for_update(key_share=True)
                        .execution_options(populate_existing=True))
            found.update({(e.source, e.source_event_id): e for e in session.scalars(stmt)})
    return found


def _ids_written_here(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Ids of the events with these keys that this transaction created (not a concurrent writer)."""
    by_source: dict[str, list[str]] = {}
    for source, source_event_id in keys:
        by_source.setdefault(source, []).append(source_event_id)
    found = {}
    for source, ids in by_source.items():
        for chunk in _chunks(ids, 1000):
            stmt = select(Event.id, Event.source_event_id).where(
                Event.source == source, Event.source_event_id.in_(chunk), written_here(session, "event"))
            found.update({(source, k): i for i, k in session.execute(stmt)})
    return found


def _chunks(seq: Sequence, size: int):
    for start in range(0, len(seq), size):
        yield seq[start:start + size]


def _create(session: Session, items: list[EventCreate], now: datetime) -> dict[tuple[str, str], Ingested]:
    if not items:
        return {}
    rows, payloads = [], []
    for item in items:
        payload, digest = _payload(item)
        row = _row(item)
        row.update(source=item.source, source_event_id=item.source_event_id, revision=1,
                   content_hash=digest, created_at=now, updated_at=now, retracted_at=None)
        rows.append(row)
        payloads.append(payload)
    # Rows go in in key order, so two writers creating overlapping keys wait on each other in one
    # order (no deadlock), while ids, drawn first, still follow the items' order.
    order = list(range(len(rows)))
    reserved = reserve_ids(session, Event, len(rows))
    if reserved is not None:
        for row, event_id in zip(rows, reserved):
            row["id"] = event_id
        order.sort(key=lambda n: (rows[n]["source"], rows[n]["source_event_id"]))
    insert_new(session, Event, [rows[n] for n in order], key=["source", "source_event_id"])
    ids = _ids_written_here(session, [(r["source"], r["source_event_id"]) for r in rows])
    made = [(ids[key], item, payload, digest)
            for item, payload, digest, key in ((items[n], payloads[n], rows[n]["content_hash"],
                                                (rows[n]["source"], rows[n]["source_event_id"])) for n in order)
            if key in ids]
    # Core inserts on the tables: the ORM's bulk path would add per-row bookkeeping we do not need.
    if made:
        session.execute(insert(EventRevision.__table__), [
            {"event_id": i, "revision": 1, "change": "created", "content_hash": digest, "payload": payload,
             "recorded_at": now} for i, _, payload, digest in made])
    touched = _link(session, [(i, item) for i, item, _, _ in made])
    return {(item.source, item.source_event_id): Ingested(i, "created", touched.get(i, {}))
            for i, item, _, _ in made}


def _revise(session: Session, event: Event, item: EventCreate, payload: dict, digest: str,
            now: datetime) -> Ingested:
    before = {d: event.occurred_on for d in session.scalars(select(EventDyad.dyad_id).where(EventDyad.event_id == event.id))}
    revision = event.revision + 1
    # A retraction stands: a corrected re-send is recorded as a revision but stays out of history.
    retracted = event.retracted_at is not None
    session.execute(update(Event).where(Event.id == event.id).values(
        **_row(item), revision=revision, content_hash=digest, updated_at=now))
    session.execute(insert(EventRevision).values(
        event_id=event.id, revision=revision, change="revised", content_hash=digest,
        payload=payload, recorded_at=now))
    session.execute(delete(EventDyad).where(EventDyad.event_id == event.id))
    after = _link(session, [(event.id, item)]).get(event.id, {})
    # A back-dated or forward-dated correction changes history from the earlier of the two dates.
    touched = {d: min(before.get(d, day), after.get(d, day)) for d, day in (before | after).items()}
    if retracted:
        touched = {}
    session.expire(event)
    return Ingested(event.id, "revised", touched)


def _link(session: Session, pairs: list[tuple[int, EventCreate]]) -> dict[int, dict[str, date]]:
    """Link events to their dyads (created by _add_dyads); the dyads each event touched, with its date."""
    link_rows = []
    touched: dict[int, dict[str, date]] = {}
    for event_id, item in pairs:
        day = dyad_rules.occurred_day(item.occurred_on)
        for link in dyad_rules.links_for(item):
            link_rows.append({"event_id": event_id, "dyad_id": link.dyad_id, "initiator": link.initiator,
                              "target": link.target, "territorial": link.territorial, "occurred_on": day})
            touched.setdefault(event_id, {})[link.dyad_id] = day
    if link_rows:
        session.execute(insert(EventDyad.__table__), link_rows)
    return touched


def retract(session: Session, event_id: int, now: datetime | None = None) -> Ingested:
    """Tombstone an event: kept and listable, no longer part of any dyad's history."""
    now = now or datetime.now(timezone.utc)
    event = get(session, event_id, for_update=True)
    if event.retracted_at is not None:
        return Ingested(event.id, "unchanged")
    revision = event.revision + 1
    session.execute(update(Event).where(Event.id == event.id).values(revision=revision, retracted_at=now, updated_at=now))
    payload = session.scalars(select(EventRevision.payload).where(EventRevision.event_id == event.id)
                              .order_by(EventRevision.revision.desc()).limit(1)).one()
    session.execute(insert(EventRevision).values(event_id=event.id, revision=revision, change="retracted",
                                                 content_hash=event.content_hash, payload=payload, recorded_at=now))
    touched = {d: event.occurred_on for d in session.scalars(select(EventDyad.dyad_id).where(EventDyad.event_id == event.id))}
    session.expire(event)
    return Ingested(event.id, "retracted", touched)


def get(session: Session, event_id: int, for_update: bool = False) -> Event:
    event = session.get(Event, event_id, with_for_update={"key_share": True} if for_update else None)
    if event is None:
        raise errors.NotFound(f"no event with id {event_id}", field="id")
    return event


def links(session: Session, event_ids: Sequence[int]) -> dict[int, list[tuple[EventDyad, str]]]:
    out: dict[int, list[tuple[EventDyad, str]]] = {i: [] for i in event_ids}
    if not event_ids:
        return out
    rows = session.execute(select(EventDyad, Dyad.kind).join(Dyad, Dyad.id == EventDyad.dyad_id)
                           .where(EventDyad.event_id.in_(event_ids)).order_by(EventDyad.dyad_id))
    for link, kind in rows:
        out[link.event_id].append((link, kind))
    return out


def revisions(session: Session, event_id: int) -> list[EventRevision]:
    get(session, event_id)
    return list(session.scalars(select(EventRevision).where(EventRevision.event_id == event_id)
                                .order_by(EventRevision.revision)))


def search(session: Session, *, dyad: str | None, country: str | None, since: date | None, until: date | None,
           include_retracted: bool, after_id: int, limit: int) -> list[Event]:
    stmt = select(Event).where(Event.id > after_id).order_by(Event.id).limit(limit)
    if dyad:
        stmt = stmt.where(Event.id.in_(select(EventDyad.event_id).where(EventDyad.dyad_id == dyad)))
    if country:
        stmt = stmt.where(or_(Event.actor1_country == country, Event.actor2_country == country,
                              Event.location_country == country))
    if since:
        stmt = stmt.where(Event.occurred_on >= since)
    if until:
        stmt = stmt.where(Event.occurred_on <= until)
    if not include_retracted:
        stmt = stmt.where(Event.retracted_at.is_(None))
    return list(session.scalars(stmt))


def to_read(event: Event, event_links: list[tuple[EventDyad, str]], status: str | None = None,
            answered: dict[int, str] | None = None) -> EventRead:
    actor2 = None
    if event.actor2_kind:
        actor2 = Actor(name=event.actor2_name, country=event.actor2_country, kind=event.actor2_kind)
    return EventRead(
        id=event.id, source=event.source, source_event_id=event.source_event_id, revision=event.revision,
        status=status, occurred_on=event.occurred_on, occurred_at=event.occurred_at,
        actor1=Actor(name=event.actor1_name, country=event.actor1_country, kind=event.actor1_kind),
        actor2=actor2,
        location=Location(country=event.location_country, admin1=event.location_admin1,
                          latitude=event.latitude, longitude=event.longitude),
        action=event.action, hostility=event.hostility,
        hostility_label=vocabulary.HOSTILITY_LABELS[event.hostility],
        event_type=event.event_type, sub_event_type=event.sub_event_type, cameo_code=event.cameo_code,
        fatalities=event.fatalities, civilian_fatalities=event.civilian_fatalities, injured=event.injured,
        weapons=event.weapons, retaliation=event.retaliation, responds_to=event.responds_to_id,
        responds_to_source_event_id=(answered or {}).get(event.responds_to_id), notes=event.notes,
        dyads=[DyadRef(id=link.dyad_id, kind=kind, initiator=link.initiator, target=link.target,
                       territorial=link.territorial) for link, kind in event_links],
        created_at=event.created_at, updated_at=event.updated_at, retracted_at=event.retracted_at,
    )


def read(session: Session, event_id: int, status: str | None = None) -> EventRead:
    event = get(session, event_id)
    answered = references.source_event_ids(session, [event.responds_to_id])
    return to_read(event, links(session, [event_id])[event_id], status, answered)


def read_many(session: Session, events: list[Event]) -> list[EventRead]:
    by_event = links(session, [e.id for e in events])
    answered = references.source_event_ids(session, [e.responds_to_id for e in events])
    return [to_read(e, by_event[e.id], answered=answered) for e in events]
