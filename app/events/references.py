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

from app import bulk, errors
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


def check(session: Session, items: Sequence[EventCreate], prefix: str) -> None:
    """Every reference names a stored event, or (by source_event_id) one earlier in the request, other than the
    event itself; else 422."""
    by_id = {i.responds_to for i in items if isinstance(i.responds_to, int)}
    by_key = {_key(i) for i in items if isinstance(i.responds_to, str)}
    if not by_id and not by_key:
        return
    ids = set(session.scalars(select(Event.id).where(Event.id.in_(by_id)))) if by_id else set()
    stored = _ids_by_key(session, by_key)
    # the ids of stored events that an item answering by id would revise: it may not name itself
    own = _ids_by_key(session, {(i.source, i.source_event_id) for i in items if isinstance(i.responds_to, int)})
    earlier: set[Key] = set()
    problems = []
    for n, item in enumerate(items):
        ref, field = item.responds_to, f"{prefix}{n}.responds_to" if prefix else "responds_to"
        itself = own.get((item.source, item.source_event_id)) if isinstance(ref, int) else item.source_event_id
        if ref == itself:
            problems.append({"field": field, "type": "self_reference", "detail": "an event cannot respond to itself"})
        elif isinstance(ref, int) and ref not in ids:
            problems.append({"field": field, "detail": f"no event with id {ref}", "type": "not_found"})
        elif isinstance(ref, str) and _key(item) not in stored and _key(item) not in earlier:
            problems.append({"field": field, "type": "not_found", "detail": f"no event with source {item.source!r} "
                             f"and source_event_id {ref!r}, stored or earlier in this request"})
        earlier.add((item.source, item.source_event_id))
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
