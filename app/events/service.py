"""Ingest (idempotent, revisioned), retraction and queries over stored events. Services flush, never commit."""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import orjson
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from app import errors
from app.storage import bulk, locks
from app.storage.bulk import JSONText
from app.events import dyads as dyad_rules
from app.events.dyads import DyadLink
from app.events import references, vocabulary
from app.events.models import Dyad, Event, EventDyad, EventRevision
from app.events.schemas import Actor, DyadRef, EventCreate, EventRead, Location


@dataclass
class Ingested:
    event_id: int
    status: str  # created | unchanged | revised | retracted | relinked
    # Dyads whose history changed: the event's current dyads plus any it left on revision.
    touched: dict[str, date] = field(default_factory=dict)
    # Where a revision moved the event: each touched dyad's later date (its day before or after), when that
    # differs from `touched`'s. The fronts of other dyads (app.risk.service) read the event at both.
    moved: dict[str, date] = field(default_factory=dict)
    # (hostility, fatalities) of the event, each the larger of its values before and after the change: whether
    # it opens a front of its members' other dyads (app.ml.fronts.opens_front) in either version. None: not known.
    acts: tuple[int, int] | None = None


Key = tuple[str, str]  # (source, source_event_id)


@dataclass
class _Current:
    """What a revision needs of a stored event: kept up to date as a batch revises it again."""
    id: int
    revision: int
    content_hash: str
    retracted: bool
    dyads: dict[str, date]  # the dyads it is linked to, with its date
    acts: tuple[int, int]  # its hostility and fatalities


# The fields that make an event's identity (the hash that recognises a re-send), as the contract had them when the
# first hashes were stored, so that those hashes stand. A field added to the contract later is left out: a re-send
# of an old event without it stays `unchanged`. To make a new field count, add IDENTITY_V2 (this plus it, counted
# only where it is set) and recognise a stored hash of either version.
_ACTOR = ("country", "kind", "name")
IDENTITY_V1: dict[str, tuple[str, ...] | None] = {
    "source": None, "source_event_id": None, "occurred_on": None, "actor1": _ACTOR, "actor2": _ACTOR,
    "location": ("admin1", "country", "latitude", "longitude"), "action": None, "event_type": None,
    "sub_event_type": None, "cameo_code": None, "fatalities": None, "civilian_fatalities": None, "injured": None,
    "weapons": None, "retaliation": None, "responds_to": None, "notes": None,
}


def identity(data: dict) -> dict:
    """The part of an event's JSON that its re-send hash covers (IDENTITY_V1)."""
    out = {}
    for name, inner in IDENTITY_V1.items():
        value = data.get(name)
        out[name] = {k: value.get(k) for k in inner} if inner is not None and value is not None else value
    return out


def _payload(item: EventCreate) -> tuple[JSONText, str]:
    """The event as JSON (kept as its revision) and the hash that recognises a re-send (of its identity fields)."""
    data = item.model_dump(mode="json")
    canonical = canonical_json(data)
    keyed = identity(data)
    digest_of = canonical if keyed == data else canonical_json(keyed)  # today's contract: the same bytes
    return JSONText(canonical), hashlib.sha256(digest_of.encode()).hexdigest()


def canonical_json(data: dict) -> str:
    """An event's canonical JSON: `json.dumps(data, sort_keys=True, separators=(",", ":"))`, byte for byte, since
    stored hashes recognise re-sends by it. orjson writes the same bytes where the text is ASCII without DEL (the
    standard library escapes the rest) and the coordinates, the contract's only floats, print as `repr` does
    (orjson writes 1e-05 as 0.00001); anything else takes the standard library's way."""
    fast = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    where = data.get("location") or {}
    if fast.isascii() and b"\x7f" not in fast and all(
            v is None or orjson.dumps(v) == repr(v).encode() for v in (where.get("latitude"), where.get("longitude"))):
        return fast.decode()
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


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
    links = [dyad_rules.links_for(item) for item in items]
    _add_dyads(session, links, now)
    results: list[Ingested] = []
    for run in references.resolved_runs(session, items):
        results += _ingest_run(session, run, links[len(results):len(results) + len(run)], now)
    return results


def _ingest_run(session: Session, items: Sequence[EventCreate], links: list[list[DyadLink]],
                now: datetime) -> list[Ingested]:
    keys = [(i.source, i.source_event_id) for i in items]
    payloads = [_payload(i) for i in items]
    # New keys are inserted before any existing event is locked, and both in key order: writers
    # that share keys then wait on each other in one order and cannot deadlock.
    known = _stored_keys(session, set(keys))
    first_new: dict[Key, int] = {}
    for n, key in enumerate(keys):
        if key not in known and key not in first_new:
            first_new[key] = n
    results: list[Ingested | None] = [None] * len(items)
    created = _create(session, [(items[n], links[n], payloads[n]) for n in first_new.values()], now)
    for key, n in first_new.items():
        results[n] = created.get(key)  # absent: a concurrent writer created it first
    rest = [n for n, r in enumerate(results) if r is None]
    if rest:
        current = _lock(session, {keys[n] for n in rest})
        # A key's k-th later copy is applied in round k, after the copies before it: one batch of writes a round.
        rounds: list[list[int]] = []
        seen: dict[Key, int] = {}
        for n in rest:
            k = seen[keys[n]] = seen.get(keys[n], -1) + 1
            if k == len(rounds):
                rounds.append([])
            rounds[k].append(n)
        for round_ in rounds:
            changed = []
            for n in round_:
                event = current[keys[n]]
                if event.content_hash == payloads[n][1]:
                    results[n] = Ingested(event.id, "unchanged")
                else:
                    changed.append(n)
            revised = _revise(session, [(current[keys[n]], items[n], links[n], payloads[n]) for n in changed], now)
            for n, result in zip(changed, revised):
                results[n] = result
    return results  # type: ignore[return-value]


def _add_dyads(session: Session, links: list[list[DyadLink]], now: datetime) -> None:
    """Create the items' dyads first, in id order: concurrent writers then wait on each other's
    new dyads in one order (no deadlock), before either locks any event."""
    rows = {link.dyad_id: {"id": link.dyad_id, "member_a": link.member_a, "member_b": link.member_b,
                           "kind": link.kind, "created_at": now}
            for item_links in links for link in item_links}
    bulk.insert_ignore(session, Dyad, list(rows.values()), key="id")


def _stored_keys(session: Session, keys: set[Key]) -> set[Key]:
    found: set[Key] = set()
    for source, ids in locks.by_source(keys):
        found.update((source, k) for (k,) in bulk.by_key(
            session, [Event.source_event_id], [Event.source == source], Event.source_event_id, ids))
    return found


def stored_ids(session: Session, keys: set[Key]) -> set[int]:
    """The ids of the stored events with these (source, source_event_id) keys."""
    found: set[int] = set()
    for source, ids in locks.by_source(keys):
        found.update(r.id for r in bulk.by_key(session, [Event.id], [Event.source == source], Event.source_event_id,
                                               ids))
    return found


def _lock(session: Session, keys: set[Key]) -> dict[Key, _Current]:
    """The stored events with these keys, row-locked in key order until commit, with their dyads.

    The locks make a concurrent revision of the same event wait for ours; NO KEY UPDATE so that
    foreign-key checks of rows referencing the event (responds_to) do not wait on it.
    """
    found = {(source, r.source_event_id): _Current(r.id, r.revision, r.content_hash, r.retracted_at is not None, {},
                                                   (r.hostility, r.fatalities or 0))
             for source, r in locks.lock_events(session, keys, [Event.id, Event.source_event_id, Event.revision,
                                                                Event.content_hash, Event.retracted_at,
                                                                Event.hostility, Event.fatalities])}
    by_id = {e.id: e for e in found.values()}
    if by_id:
        for event_id, dyad_id, day in session.execute(
                select(EventDyad.event_id, EventDyad.dyad_id, EventDyad.occurred_on)
                .where(bulk.one_of(session, EventDyad.event_id, by_id))):
            by_id[event_id].dyads[dyad_id] = day
    return found


def _create(session: Session, batch: list[tuple[EventCreate, list[DyadLink], tuple[JSONText, str]]],
            now: datetime) -> dict[Key, Ingested]:
    if not batch:
        return {}
    rows = []
    for item, _, (_, digest) in batch:
        row = _row(item)
        row.update(source=item.source, source_event_id=item.source_event_id, revision=1,
                   content_hash=digest, created_at=now, updated_at=now, retracted_at=None)
        rows.append(row)
    # Ids, drawn first, follow the items' order; rows go in in key order (insert_new), so two writers
    # creating overlapping keys wait on each other in one order (no deadlock).
    reserved = bulk.reserve_ids(session, Event, len(rows))
    if reserved is not None:
        for row, event_id in zip(rows, reserved):
            row["id"] = event_id
    ids = {(source, key): i for i, source, key in bulk.insert_new(session, Event, rows,
                                                                   key=["source", "source_event_id"])}
    made = [(ids[key], item, links, payload, digest) for item, links, (payload, digest) in batch
            if (key := (item.source, item.source_event_id)) in ids]
    bulk.insert_rows(session, EventRevision, [
        {"event_id": i, "revision": 1, "change": "created", "content_hash": digest, "payload": payload,
         "recorded_at": now} for i, _, _, payload, digest in made])
    touched = _link(session, [(i, dyad_rules.occurred_day(item.occurred_on), links) for i, item, links, _, _ in made])
    return {(item.source, item.source_event_id): Ingested(i, "created", touched.get(i, {}), acts=_acts(item))
            for i, item, _, _, _ in made}


def _acts(item: EventCreate) -> tuple[int, int]:
    return item.resolved_action()[0].hostility, item.fatalities or 0


def _revise(session: Session, batch: list[tuple[_Current, EventCreate, list[DyadLink], tuple[JSONText, str]]],
            now: datetime) -> list[Ingested]:
    """Revise locked events, at most one revision of each (a round of `_ingest_run`), in a few statements."""
    if not batch:
        return []
    rows = []
    for event, item, _, (_, digest) in batch:
        event.revision += 1
        event.content_hash = digest
        rows.append({"id": event.id, **_row(item), "revision": event.revision, "content_hash": digest,
                     "updated_at": now})
    bulk.update_rows(session, Event, rows)
    bulk.insert_rows(session, EventRevision, [
        {"event_id": event.id, "revision": event.revision, "change": "revised", "content_hash": digest,
         "payload": payload, "recorded_at": now} for event, _, _, (payload, digest) in batch])
    session.execute(delete(EventDyad).where(bulk.one_of(session, EventDyad.event_id, [b[0].id for b in batch])))
    linked = _link(session, [(event.id, dyad_rules.occurred_day(item.occurred_on), links)
                             for event, item, links, _ in batch])
    out = []
    for event, item, _, _ in batch:
        before, after = event.dyads, linked.get(event.id, {})
        acts, event.acts = event.acts, _acts(item)
        acts = (max(acts[0], event.acts[0]), max(acts[1], event.acts[1]))  # this revision, or the one before
        # A back-dated or forward-dated correction changes history from the earlier of the two dates.
        touched = {d: min(before.get(d, day), after.get(d, day)) for d, day in (before | after).items()}
        moved = {d: later for d, day in (before | after).items()
                 if (later := max(before.get(d, day), after.get(d, day))) != touched[d]}
        event.dyads = after
        # A retraction stands: a corrected re-send is recorded as a revision but stays out of history.
        out.append(Ingested(event.id, "revised", {} if event.retracted else touched, {} if event.retracted else moved,
                            acts))
    return out


def _link(session: Session, events: list[tuple[int, date, list[DyadLink]]]) -> dict[int, dict[str, date]]:
    """Link events (id, day) to their dyads (created by _add_dyads); the dyads each event touched, with its date."""
    link_rows = []
    touched: dict[int, dict[str, date]] = {}
    for event_id, day, links in events:
        for link in links:
            link_rows.append({"event_id": event_id, "dyad_id": link.dyad_id, "initiator": link.initiator,
                              "target": link.target, "territorial": link.territorial, "occurred_on": day})
            touched.setdefault(event_id, {})[link.dyad_id] = day
    bulk.insert_rows(session, EventDyad, link_rows)
    return touched


def relink_candidates(session: Session, after_id: int, limit: int) -> list[int]:
    """Ids (ascending, above `after_id`) of stored events whose links depend on where they happened: a state
    acting outside its own country. Only these can gain or lose a territorial link when the rule changes."""
    return list(session.scalars(
        select(Event.id).where(Event.id > after_id, Event.actor1_kind == "state",
                               Event.location_country != Event.actor1_country)
        .order_by(Event.id).limit(limit)))


def relink(session: Session, event_ids: Sequence[int]) -> list[Ingested]:
    """Derive the dyad links of stored events again, under today's rules (`dyads.links_between`), from the member
    ids, kinds and territory each one stores (not from its payload, which today's contract might refuse); the
    events whose links changed come back as `relinked`, touching the dyads they left and joined (none for a
    retracted event, which is in no history).

    The locks follow the write order: the new dyads first, then the events in key order. An event revised in
    between was linked by that revision, under the same rules, and is left as it is."""
    rows = {r.id: r for r in session.execute(
        select(Event.id, Event.source, Event.source_event_id, Event.revision, Event.actor1_member, Event.actor1_kind,
               Event.actor2_member, Event.actor2_kind, Event.location_country, Event.occurred_on)
        .where(bulk.one_of(session, Event.id, list(event_ids))))}
    wanted = {i: dyad_rules.links_between(r.actor1_member, r.actor1_kind == "state", r.actor2_member,
                                          r.actor2_kind == "state", r.location_country) for i, r in rows.items()}
    _add_dyads(session, list(wanted.values()), datetime.now(timezone.utc))
    locked = _lock(session, {(r.source, r.source_event_id) for r in rows.values()})
    changed = []
    for event_id, r in sorted(rows.items(), key=lambda kv: (kv[1].source, kv[1].source_event_id)):
        event = locked.get((r.source, r.source_event_id))
        if event is None or event.revision != r.revision:
            continue  # revised meanwhile: that revision linked it under today's rules
        if {link.dyad_id for link in wanted[event_id]} != set(event.dyads):
            changed.append((event, r.occurred_on, wanted[event_id]))
    if not changed:
        return []
    session.execute(delete(EventDyad).where(bulk.one_of(session, EventDyad.event_id, [e.id for e, _, _ in changed])))
    linked = _link(session, [(e.id, day, links) for e, day, links in changed])
    out = []
    for event, _, _ in changed:
        before, after = event.dyads, linked.get(event.id, {})
        # the content is unchanged: only the dyads it left or joined have a new history
        touched = {d: on for d, on in (before | after).items() if (d in before) != (d in after)}
        out.append(Ingested(event.id, "relinked", {} if event.retracted else touched, acts=event.acts))
    return out


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
    acts = (event.hostility, event.fatalities or 0)
    session.expire(event)
    return Ingested(event.id, "retracted", touched, acts=acts)


def get(session: Session, event_id: int, for_update: bool = False) -> Event:
    event = locks.lock_event(session, event_id) if for_update else session.get(Event, event_id)
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
