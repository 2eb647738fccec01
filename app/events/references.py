"""`responds_to`: the answered event by its id, or by its `source_event_id` within the same source.

A client posting a batch cannot know the ids of events that do not exist yet, so a string
names the answered event by its key; it may be stored already or come earlier in the same
request. References are checked before anything is written, then resolved to ids run by run:
a run ends before an item that answers an event created earlier in that run, whose id exists
only once the run is written.
"""

from collections.abc import Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import errors
from app.storage import bulk
from app.events import members as member_ids
from app.events.dyads import member_id, occurred_day
from app.events.models import Event
from app.events.schemas import EventCreate

Key = tuple[str, str]  # (source, source_event_id)


def _ids_by_key(session: Session, keys: set[Key]) -> dict[Key, int]:
    found: dict[Key, int] = {}
    by_source: dict[str, list[str]] = {}
    for source, source_event_id in keys:
        by_source.setdefault(source, []).append(source_event_id)
    for source, wanted in by_source.items():
        rows = bulk.by_key(session, [Event.source_event_id, Event.id], [Event.source == source],
                           Event.source_event_id, sorted(wanted))
        found.update({(source, seid): event_id for seid, event_id in rows})
    return found


def _key(item: EventCreate) -> Key:
    return item.source, item.responds_to  # type: ignore[return-value]


def _of_item(item: EventCreate) -> tuple[str, object, frozenset[str]]:
    where = item.location.country
    people = {member_id(item.actor1, where), member_ids.state(where)}
    if item.actor2 is not None:
        people.add(member_id(item.actor2, where))
    return item.source, occurred_day(item.occurred_on), frozenset(people)


def _of_rows(session: Session, ids: set[int]) -> dict[int, tuple[Key, tuple[str, object, frozenset[str]]]]:
    """Per stored id: its key, and what an answer is checked against (source, day, members)."""
    if not ids:
        return {}
    rows = session.execute(select(Event.id, Event.source, Event.source_event_id, Event.occurred_on,
                                  Event.actor1_member, Event.actor2_member, Event.location_country)
                           .where(bulk.one_of(session, Event.id, sorted(ids))))
    return {r.id: ((r.source, r.source_event_id),
                   (r.source, r.occurred_on, frozenset(m for m in (r.actor1_member, r.actor2_member,
                                                                   member_ids.state(r.location_country)) if m)))
            for r in rows}


def _nonsense(item: EventCreate, answered: tuple[str, object, frozenset[str]]) -> tuple[str, str] | None:
    """Why `item` cannot answer that event, as (type, detail), or None."""
    source, day, people = _of_item(item)
    if answered[0] != source:
        return "other_source", f"the answered event is in source {answered[0]!r}, this one in {source!r}"
    if day < answered[1]:
        return "answers_later_event", f"an answer ({day}) cannot be dated before the event it answers ({answered[1]})"
    if not people & answered[2]:
        return "unrelated", (f"the answered event involves {', '.join(sorted(answered[2]))}; this one "
                             f"{', '.join(sorted(people))}: an answer shares at least one of them")
    return None


def check(session: Session, items: Sequence[EventCreate], prefix: str) -> None:
    """Every reference names a stored event, or (by source_event_id) one earlier in the request, other than the
    event itself, in the same source, not dated after its answer and sharing a member with it (a state's
    territory counts: Pakistan's strike in Iran answers Iran's strike in Pakistan); else 422."""
    by_id = {i.responds_to for i in items if isinstance(i.responds_to, int)}
    by_key = {_key(i) for i in items if isinstance(i.responds_to, str)}
    if not by_id and not by_key:
        return
    ids = set(session.scalars(select(Event.id).where(Event.id.in_(by_id)))) if by_id else set()
    stored = _ids_by_key(session, by_key)
    # the ids of stored events that an item answering by id would revise: it may not name itself
    own = _ids_by_key(session, {(i.source, i.source_event_id) for i in items if isinstance(i.responds_to, int)})
    rows = _of_rows(session, ids | set(stored.values()))
    earlier: dict[Key, EventCreate] = {}  # the latest version of each key earlier in the request
    problems = []
    for n, item in enumerate(items):
        ref, field = item.responds_to, f"{prefix}{n}.responds_to" if prefix else "responds_to"
        itself = own.get((item.source, item.source_event_id)) if isinstance(ref, int) else item.source_event_id
        answered = None
        if ref is None:
            pass
        elif ref == itself:
            problems.append({"field": field, "type": "self_reference", "detail": "an event cannot respond to itself"})
        elif isinstance(ref, int) and ref not in ids:
            problems.append({"field": field, "detail": f"no event with id {ref}", "type": "not_found"})
        elif isinstance(ref, str) and _key(item) not in stored and _key(item) not in earlier:
            problems.append({"field": field, "type": "not_found", "detail": f"no event with source {item.source!r} "
                             f"and source_event_id {ref!r}, stored or earlier in this request"})
        else:  # the answered event as it will be: its latest version earlier in the request, else as stored
            stored_id = ref if isinstance(ref, int) else stored.get(_key(item))
            key = rows[stored_id][0] if stored_id is not None else _key(item)
            answered = _of_item(earlier[key]) if key in earlier else rows[stored_id][1]
        if answered is not None and (why := _nonsense(item, answered)):
            problems.append({"field": field, "type": why[0], "detail": why[1]})
        earlier[(item.source, item.source_event_id)] = item
    if problems:
        first = problems[0]
        raise errors.InvalidInput(f"{first['field']}: {first['detail']}", field=first["field"], errors=problems)


def resolved_runs(session: Session, items: Sequence[EventCreate]) -> Iterator[list[EventCreate]]:
    """The items in order, in runs whose references are ids; write each run before asking for the next."""
    start = 0
    while start < len(items):
        stored = _ids_by_key(session, {_key(i) for i in items[start:] if isinstance(i.responds_to, str)})
        run: list[EventCreate] = []
        for item in items[start:]:
            if isinstance(item.responds_to, str):
                if _key(item) not in stored:  # answers an event of this run, not written yet
                    break
                item = item.model_copy(update={"responds_to": stored[_key(item)]})
            run.append(item)
        if not run:  # check() admits only keys stored or earlier in the request, so a run is never empty
            raise errors.InvalidInput("responds_to names an event later in this request", field="responds_to")
        yield run
        start += len(run)


def source_event_ids(session: Session, ids: Sequence[int | None]) -> dict[int, str]:
    """The answered events' source_event_ids, for showing beside their ids."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(Event.id, Event.source_event_id).where(Event.id.in_(wanted))).all())
