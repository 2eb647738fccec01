"""Questions the stored history cannot answer alone: the prior of a dyad with no events, and what-if.

Neither writes anything: no event, no assessment, no feed entry. Both score through the same
features, model and explanation as a stored assessment.
"""

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from app import errors
from app.countries import is_iso3
from app.events import dyads as dyad_rules
from app.events import history as event_history
from app.events import members as member_ids
from app.events.facts import EventFact
from app.events.schemas import EventCreate
from app.ml.features import LOOKBACK_DAYS
from app.ml.scorer import Scorer
from app.observability import SCORING_SECONDS
from app.risk.schemas import RiskRead


def member(text: str, field: str) -> str:
    """A member id as stored (ISO3 upper-case, `nsa:` slug, `civ:` + ISO3), or a 422 for one that cannot exist."""
    out = member_ids.normalise(text)
    if member_ids.is_nonstate(out):
        slug = out.removeprefix(member_ids.NONSTATE)
        valid = bool(slug) and member_ids.slug(slug) == slug
    else:
        valid = is_iso3(member_ids.member_country(out) or "")
    if not valid:
        raise errors.InvalidInput(f"{text!r} is not a member id (ISO3, nsa:<slug> or civ:<ISO3>)", field=field)
    return out


def members(a: str, b: str) -> tuple[str, str]:
    ma, mb = member(a, "a"), member(b, "b")
    if ma == mb:
        raise errors.InvalidInput("a and b must differ", field="b")
    return ma, mb


def _read(scorer: Scorer, a: str, b: str, facts: Sequence[EventFact], as_of: date, marker: int | None) -> RiskRead:
    known = [f for f in facts if f.occurred_on <= as_of]
    with SCORING_SECONDS.time():
        score = scorer.score(known, as_of, scorer.context_for(a, b, as_of))
    first, second = sorted((a, b))
    return RiskRead.of(score, scorer, dyad_id=member_ids.dyad_id(a, b), members=(first, second),
                       kind=member_ids.dyad_kind(a, b), as_of=as_of,
                       last_event_on=known[-1].occurred_on if known else None, event_count=len(known), marker=marker)


def prior(scorer: Scorer, a: str, b: str, as_of: date) -> RiskRead:
    """The risk of two members with no recorded events: structural context only (`event_count: 0`)."""
    return _read(scorer, a, b, [], as_of, None)


def what_if(session: Session, scorer: Scorer, a: str, b: str, as_of: date | None,
            events: Sequence[EventCreate], marker: int | None) -> RiskRead:
    """The dyad's stored history plus hypothetical events, scored as of `as_of` (default: the last
    hypothetical event's day). Each event must affect this dyad, as an ingested one would."""
    dyad = member_ids.dyad_id(a, b)
    added: list[EventFact] = []
    for n, event in enumerate(events):
        facts = [f for link, f in dyad_rules.facts_for(event) if link.dyad_id == dyad]
        if not facts:
            raise errors.InvalidInput(f"events.{n} does not affect dyad {dyad!r}", field=f"events.{n}")
        added.extend(facts)
    as_of = as_of or max(f.occurred_on for f in added)
    stored = list(event_history.windows(session, [dyad], LOOKBACK_DAYS, until=as_of)[dyad].facts)
    history = sorted(stored + added, key=lambda f: f.occurred_on)
    return _read(scorer, a, b, history, as_of, marker)
