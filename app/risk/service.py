"""Assessing dyads when their history changes, and answering risk questions. Services flush, never commit."""

from bisect import bisect_right
from collections.abc import Sequence
from datetime import date, datetime, timezone

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from app import errors
from app.database import insert_returning_ids, upsert
from app.events import members as member_ids
from app.events import history as event_history
from app.events import service as event_service
from app.events.models import Dyad
from app.ml import levels
from app.ml.scorer import Score, Scorer
from app.observability import ASSESSMENTS, SCORING_SECONDS
from app.risk import outbox
from app.risk.cache import RiskCache
from app.risk.models import Assessment, DyadRisk
from app.risk.schemas import AssessmentRead, DyadRead, RiskRead


def reassess(session: Session, scorer: Scorer, results: Sequence[event_service.Ingested]) -> int:
    """Assess every dyad whose history the results changed, once per dyad, in the caller's transaction.

    Each dyad is assessed once, as of its last event. When the change reaches back behind
    assessments already stored (a late report, a correction, a retraction), those are redone
    and the earliest changed date is assessed too, so the dyad's history reads as the model
    would have written it had the report arrived on time.
    """
    since: dict[str, date] = {}
    trigger: dict[str, tuple[int, str]] = {}
    for r in results:
        for dyad_id, day in r.touched.items():
            since[dyad_id] = min(day, since.get(dyad_id, day))
            trigger[dyad_id] = (r.event_id, r.status)
    if not since:
        return 0
    dyad_ids = sorted(since)
    histories = event_history.facts_by_dyad(session, dyad_ids)
    assessed: dict[str, set[date]] = {d: set() for d in dyad_ids}
    stmt = (select(Assessment.dyad_id, Assessment.as_of)
            .where(Assessment.dyad_id.in_(dyad_ids), Assessment.as_of >= min(since.values())).distinct())
    for dyad_id, as_of in session.execute(stmt):
        if as_of >= since[dyad_id]:
            assessed[dyad_id].add(as_of)

    plan: list[tuple[str, date]] = []
    for dyad_id in dyad_ids:
        dates = set(assessed[dyad_id])
        history = histories[dyad_id]
        if history and history[-1].occurred_on >= since[dyad_id]:
            dates.add(history[-1].occurred_on)
        if assessed[dyad_id] or not dates:
            dates.add(since[dyad_id])
        plan.extend((dyad_id, d) for d in sorted(dates))
    with SCORING_SECONDS.time():
        scores = scorer.score_many([
            (histories[d], as_of, scorer.context_for(*member_ids.dyad_members(d), as_of)) for d, as_of in plan
        ])

    now = datetime.now(timezone.utc)
    rows = []
    for (dyad_id, as_of), score in zip(plan, scores):
        informed = _upto(histories[dyad_id], as_of)
        event_id, status = trigger[dyad_id]
        # A date assessed before, and now redone because an earlier event changed, is "backdated".
        reason = "backdated" if as_of in assessed[dyad_id] and as_of > since[dyad_id] else status
        rows.append(_assessment_row(dyad_id, as_of, score, scorer, event_id, reason, informed, now))
    ids = insert_returning_ids(session, Assessment, rows, key=lambda r: (r["dyad_id"], r["as_of"]),
                               columns=(Assessment.dyad_id, Assessment.as_of))
    outbox.enqueue(session, ids)  # webhook deliveries commit with the assessments that cause them
    _point_at_latest(session, rows, ids, now)
    ASSESSMENTS.inc(len(rows))
    return len(rows)


def _assessment_row(dyad_id, as_of, score: Score, scorer: Scorer, event_id, reason, informed, now) -> dict:
    return {
        "dyad_id": dyad_id, "as_of": as_of, "probability": score.probabilities[scorer.primary],
        "probabilities": score.probabilities, "level": score.level,
        "drivers": score.drivers, "explanation": score.explanation, "features": score.features,
        "model_version": scorer.version,
        "trigger_event_id": event_id, "reason": reason,
        "last_event_on": informed[-1].occurred_on if informed else None, "event_count": len(informed),
        "created_at": now,
    }


def _point_at_latest(session: Session, rows: list[dict], ids: list[int], now: datetime) -> None:
    """Make each dyad's pointer name its assessment with the latest as_of (ties: the newest)."""
    latest: dict[str, tuple[dict, int]] = {}
    for row, i in zip(rows, ids):
        if row["dyad_id"] not in latest or row["as_of"] >= latest[row["dyad_id"]][0]["as_of"]:
            latest[row["dyad_id"]] = (row, i)
    values = [{"dyad_id": d, "assessment_id": i, "probability": r["probability"], "level": r["level"],
               "last_event_on": r["last_event_on"], "updated_at": now} for d, (r, i) in latest.items()]
    upsert(session, DyadRisk, values, key="dyad_id")


def resolve_dyad(session: Session, a: str, b: str) -> tuple[Row, int | None]:
    """The dyad of two member ids in either order (ISO3 codes for states)."""
    first, second = member_ids.normalise(a), member_ids.normalise(b)
    if first == second:
        raise errors.InvalidInput("a and b must differ", field="b")
    return get_dyad(session, member_ids.dyad_id(first, second))


def get_dyad(session: Session, dyad_id: str) -> tuple[Row, int | None]:
    """The dyad and its latest assessment's id (which changes whenever its history does), in one query."""
    # Core on the session's connection, not an ORM query: this runs on every poll, and a plain
    # row is all a poll needs.
    row = session.connection().execute(
        select(Dyad.id, Dyad.member_a, Dyad.member_b, Dyad.kind, DyadRisk.assessment_id)
        .outerjoin(DyadRisk, DyadRisk.dyad_id == Dyad.id).where(Dyad.id == dyad_id)).first()
    if row is None:
        raise errors.NotFound(f"no events recorded for dyad {dyad_id!r}", field="dyad_id")
    return row, row.assessment_id


def _upto(history: list, as_of: date) -> list:
    """The facts on or before `as_of` of a history sorted by date."""
    return history[:bisect_right(history, as_of, key=lambda f: f.occurred_on)]


def current(session: Session, scorer: Scorer, cache: RiskCache, dyad: Dyad | Row, as_of: date,
            marker: int | None) -> RiskRead:
    """Risk as of a date from the dyad's stored history; cached until the history or the model changes."""
    return _current_many(session, scorer, cache, [(dyad, marker)], as_of)[0]


def _current_many(session: Session, scorer: Scorer, cache: RiskCache, dyads: list[tuple[Dyad | Row, int | None]],
                  as_of: date) -> list[RiskRead]:
    """Risk of many dyads as of a date: cached answers where the key (history version, model) matches,
    the rest scored in one batch."""
    known = {d.id: cache.get((d.id, as_of, m, scorer.version)) for d, m in dyads}
    missing = [(d, m) for d, m in dyads if known[d.id] is None]
    if missing:
        histories = event_history.facts_by_dyad(session, [d.id for d, _ in missing])
        items = [(_upto(histories[d.id], as_of), as_of, scorer.context_for(d.member_a, d.member_b, as_of))
                 for d, _ in missing]
        with SCORING_SECONDS.time():
            scores = scorer.score_many(items)
        for (d, m), (history, _, _), score in zip(missing, items, scores):
            known[d.id] = _risk_read(d, as_of, score, scorer, history, m)
            cache.put((d.id, as_of, m, scorer.version), known[d.id])
    return [known[d.id] for d, _ in dyads]


def _risk_read(dyad: Dyad | Row, as_of: date, score: Score, scorer: Scorer, history, marker) -> RiskRead:
    return RiskRead(
        dyad_id=dyad.id, members=(dyad.member_a, dyad.member_b), kind=dyad.kind, as_of=as_of,
        probability=score.probabilities[scorer.primary], probabilities=score.probabilities, level=score.level,
        drivers=score.drivers, explanation=score.explanation, features=score.features, model_version=scorer.version,
        last_event_on=history[-1].occurred_on if history else None, event_count=len(history),
        latest_assessment_id=marker,
    )


def ranked(session: Session, scorer: Scorer, cache: RiskCache, as_of: date, *, country: str | None,
           min_level: str | None, offset: int, limit: int) -> list[DyadRead]:
    """Dyads by current risk, highest first. Scores missing from the cache are computed in one batch."""
    stmt = select(Dyad, DyadRisk.assessment_id).join(DyadRisk, DyadRisk.dyad_id == Dyad.id)
    if country:
        ids = member_ids.of_country(country)
        stmt = stmt.where(Dyad.member_a.in_(ids) | Dyad.member_b.in_(ids))
    rows = [(d, m) for d, m in session.execute(stmt)]
    risks = list(zip((d for d, _ in rows), _current_many(session, scorer, cache, rows, as_of)))
    if min_level:
        risks = [(d, r) for d, r in risks if levels.at_least(r.level, min_level)]
    risks.sort(key=lambda dr: (-dr[1].probability, dr[0].id))
    return [DyadRead(id=d.id, members=(d.member_a, d.member_b), kind=d.kind, current=r)
            for d, r in risks[offset:offset + limit]]


def series(session: Session, dyad_id: str, *, include_superseded: bool, after_id: int, limit: int) -> list[Assessment]:
    """A dyad's assessments by as_of; by default only the newest assessment for each date."""
    get_dyad(session, dyad_id)  # 404 for an unknown dyad
    stmt = select(Assessment).where(Assessment.dyad_id == dyad_id, Assessment.id > after_id)
    if not include_superseded:
        newest = (select(func.max(Assessment.id)).where(Assessment.dyad_id == dyad_id)
                  .group_by(Assessment.as_of))
        stmt = stmt.where(Assessment.id.in_(newest))
    return list(session.scalars(stmt.order_by(Assessment.id).limit(limit)))


def feed(session: Session, after: int, limit: int) -> list[Row]:
    """Assessments after a cursor in id order: writers are serialised, so ids appear in commit order.

    Plain rows on the session's connection: pollers read this often, and ORM objects would only
    be copied into the response schema.
    """
    table = Assessment.__table__
    return list(session.connection().execute(
        select(table).where(table.c.id > after).order_by(table.c.id).limit(limit)))


def to_read(rows: list[Assessment] | list[Row]) -> list[AssessmentRead]:
    return [AssessmentRead.model_validate(r._mapping if isinstance(r, Row) else r) for r in rows]
