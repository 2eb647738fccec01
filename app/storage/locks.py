"""The locks writers take, and the order they take them in: the one place both are written.

Lock order, the same for every writer: new dyad rows (id order), then new event keys (key order), then
existing events (key order; a retraction's one event, `lock_event`), then the touched dyads' members
(`lock_members`, advisory locks in key order), then the touched dyads' rows (id order, `lock_dyads`), then the
feed's append lock (`app.storage.feed.feed_lock`), after which the assessments' ids are drawn, and last KEY SHARE
on the active webhook endpoints (`active_endpoints`: the outbox's deliveries refer to them), which only a
subscription's deletion waits on. The bulk writes (app.storage.bulk) keep these orders: staged rows are moved
`ORDER BY` their key, and the event rows are locked in key order (`bulk.by_key(lock=True)`). Writers on
different dyads therefore overlap until the last short step. (The dyads locked are the touched ones and their
members' other dyads whose stored answer reads a changed event as a front, app.risk.service `_front_neighbours`:
writers on dyads of one busy member take turns more often. And a writer whose event opens a front holds its
members exclusively: writers on dyads of a shared member then take turns from the members' locks, see
`lock_members`.)
tests/test_lock_order.py takes these locks from two writers in every order the write flow allows.

One case escapes the order: a batch whose `responds_to` names an event created earlier in the same batch is
written in runs (app.events.references), each run taking its event locks in key order but after the runs
before it, so two such batches sharing keys in opposite runs can wait on each other. PostgreSQL breaks the
deadlock by failing one of them (after `deadlock_timeout`, 1 s by default); `retried` runs that one again from
a savepoint, once the other's locks are gone, instead of failing its request. SQLite has one writer at a time
(BEGIN IMMEDIATE) and takes none of these locks.
"""

import logging
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

from sqlalchemy import Row, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.events.models import Dyad, Event
from app.observability import WRITE_RETRIES
from app.storage import bulk
from app.webhooks.models import WebhookEndpoint

log = logging.getLogger(__name__)
DEADLOCK_RETRIES = 3  # runs again after a deadlock, before the error reaches the caller (a 503 database_busy)
DEADLOCK = "40P01"  # PostgreSQL's SQLSTATE for a transaction failed to break a deadlock
T = TypeVar("T")


def lock_events(session: Session, keys: Iterable[tuple[str, str]], columns: Sequence) -> list[tuple[str, Row]]:
    """The stored events with these (source, source_event_id) keys, `columns` of each, locked until commit in key
    order (sources in code-point order, then ids): every writer of this version locks in that order.
    `source = ? AND source_event_id IN (...)` per source: PostgreSQL plans a row-value IN list as a scan."""
    out = []
    for source, ids in by_source(keys):
        out += [(source, row) for row in bulk.by_key(session, columns, [Event.source == source], Event.source_event_id,
                                                     ids, lock=True)]
    return out


def by_source(keys: Iterable[tuple[str, str]]) -> Iterator[tuple[str, list[str]]]:
    """Keys grouped by source, in key order."""
    grouped: dict[str, list[str]] = {}
    for source, source_event_id in sorted(keys):
        grouped.setdefault(source, []).append(source_event_id)
    yield from grouped.items()


def lock_event(session: Session, event_id: int) -> Event | None:
    """An event's row, locked until commit as a batch locks its existing events (NO KEY UPDATE: a `responds_to`
    that refers to it still checks its key)."""
    return session.get(Event, event_id, with_for_update={"key_share": True})


def active_endpoints(session: Session) -> list[WebhookEndpoint]:
    """The webhook endpoints not disabled, FOR KEY SHARE until commit: an endpoint deleted meanwhile would fail the
    deliveries' foreign key (and the whole write). A delete already committed is not read; one under way is
    waited for, then not read either."""
    return list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.disabled_at.is_(None))
                                .with_for_update(read=True, key_share=True)))


MEMBER_LOCKS = 7_253_002  # advisory-lock class of the members' locks (two int4 keys: apart from the feed's one bigint)
ALL_MEMBERS = -(1 << 31)  # the key every writer takes first: shared, or exclusive for a write of many members
MANY_MEMBERS = 64  # a write of more members takes ALL_MEMBERS exclusively instead of a lock each


def lock_members(session: Session, exclusive: Iterable[str], shared: Iterable[str]) -> None:
    """Advisory locks on dyad members until commit, in key order: EXCLUSIVE on the members of dyads a changed event
    opens a front of (a use of force or deaths, app.ml.fronts), SHARED on the members of the other dyads written.

    A writer reads its members' fronts and looks for the other dyads whose stored answer reads its event as a front
    (app.risk.service) in one snapshot. Without these locks, two writers on dyads of one member (IRN--PAK moving its
    answer to 18 Jan, IRN--IRQ adding a strike on 15 Jan) could each miss the other's uncommitted change, and
    IRN--PAK's stored answer (its feed entry, its webhooks) would lack the Iraq front until written again. With
    them, the second waits for the first to commit and then sees its change: the answer that read the front, or
    the answer to redo. Writers whose events open no front share their members and run alongside. A member's key is
    its id's CRC-32: two members that share one only take turns more often.

    The locks are taken in one statement (bench/bench_member_locks.py: a twelfth of the time of one statement
    each, about 27 members a batch), so one statement_timeout bounds all the waits together, not each.

    Every writer first takes ALL_MEMBERS, shared; a write of more than MANY_MEMBERS members (a large import batch)
    takes it exclusively and no other: one lock, not thousands in PostgreSQL's shared lock table, for a write that
    would wait on most writers anyway. SQLite has one writer at a time."""
    if session.get_bind().dialect.name != "postgresql":
        return
    keys: dict[int, bool] = {}
    for member in shared:
        keys.setdefault(_member_key(member), False)
    for member in exclusive:
        keys[_member_key(member)] = True
    if len(keys) > MANY_MEMBERS:
        keys = {ALL_MEMBERS: True}
    else:
        keys[ALL_MEMBERS] = False
    ordered = sorted(keys)
    # One statement: unnest yields the arrays' elements in their order and each row's lock is taken as the row is
    # produced (a function scan, no sort in the plan), so the locks are taken in key order.
    session.execute(_TAKE_MEMBERS, {"cls": MEMBER_LOCKS, "keys": ordered, "exclusive": [keys[k] for k in ordered]})


_TAKE_MEMBERS = text(
    "SELECT CASE WHEN x THEN pg_advisory_xact_lock(CAST(:cls AS int4), k)"
    " ELSE pg_advisory_xact_lock_shared(CAST(:cls AS int4), k) END"
    " FROM unnest(CAST(:keys AS int4[]), CAST(:exclusive AS boolean[])) AS u(k, x)")


def _member_key(member: str) -> int:
    """The member id's CRC-32 as a signed int4 (PostgreSQL's advisory-lock key)."""
    key = zlib.crc32(member.encode("utf-8"))
    key = key - (1 << 32) if key >= 1 << 31 else key
    return key if key != ALL_MEMBERS else key + 1  # (ALL_MEMBERS is no member's)


def lock_dyads(session: Session, dyad_ids: Sequence[str]) -> None:
    """Writers on the same dyads take turns from here to commit (row locks, in id order: no deadlock);
    writers on other dyads run alongside. SQLite has one writer at a time anyway.

    FOR NO KEY UPDATE, not FOR UPDATE: the foreign-key checks of rows that reference a dyad take
    KEY SHARE locks on it, which FOR UPDATE would wait on (and deadlock with).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Dyad.id).where(bulk.one_of(session, Dyad.id, dyad_ids)).order_by(Dyad.id)
                        .with_for_update(key_share=True))


def retried(session: Session, write: Callable[[], T]) -> T:
    """`write()` on PostgreSQL in a savepoint, run again where the database failed it to break a deadlock: the
    savepoint's rollback undoes it and releases its locks, so the other writer finishes and this one follows.
    SQLite has one writer at a time and needs none of it."""
    if session.get_bind().dialect.name != "postgresql":
        return write()
    retries = 0
    while True:
        try:
            with session.begin_nested():
                return write()
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != DEADLOCK or retries == DEADLOCK_RETRIES:
                raise
            retries += 1
            WRITE_RETRIES.inc()
            log.warning("a write was failed to break a deadlock; running it again (retry %d)", retries)
