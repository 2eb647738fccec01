"""The scoring path as it was before it was vectorised (Nov 2026), kept as the oracle the fast path must equal.

Per-event Python throughout: `History` + `_reciprocity` + `features_into` (features), `drivers` (explain),
`windows` (ORM-free rows through `make_fact`, one `EventFact` per event). Tests compare the app's
features, drivers and history windows with these, value for value; the scoring benchmark times both.
Every feature of the registry (`app.ml.features.FEATURES`) has its per-event version here (`REFERENCE_NAMES`,
in the order they were added); a feature added without one fails tests/ml/test_features_reference.py.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import pycountry
from sqlalchemy import Text, cast, column, select, text
from sqlalchemy.orm import Session

from app.events import dyads as dyad_rules
from app.events.facts import DYAD_KINDS, DyadContext, EventFact
from app.events.models import Dyad, Event, EventDyad
from app.events.vocabulary import HOSTILITY_LABELS
from app.ml.explain import THEMES
from app.ml.features import CALM_WINDOW, DECAY_HALF_LIVES, FIGHTING_WINDOW, NEVER, RESPONSE_WINDOW

# ---- features (app/ml/features.py)

REFERENCE_NAMES: tuple[str, ...] = (
    # tempo
    "events_7d",
    "events_30d",
    "events_365d",
    "days_since_last",
    "events_trend_30d",
    "history_days",
    # severity
    "max_hostility_30d",
    "max_hostility_365d",
    "last_hostility",
    "max_rung_30d",
    "last_rung",
    "hostility_trend_30d",
    "use_of_force_30d",
    # casualties
    "log_fatalities_30d",
    "log_fatalities_365d",
    "log_civilian_fatalities_30d",
    "fatal_events_30d",
    "fatality_trend_30d",
    "log_fatalities_7d",
    *(f"decayed_deaths_{h}d" for h in DECAY_HALF_LIVES),
    # reciprocity / retaliation
    "responses_30d",
    "reciprocated_30d",
    "tit_for_tat_chain_30d",
    "response_lag_days",
    # who is involved
    *(f"kind_{k}" for k in DYAD_KINDS),
    "cross_border_30d",
    "standoff_30d",
    "deescalation_30d",
    "deescalated_since_fighting",
    # contagion: the members' other fronts, read from the context (app.ml.fronts computes them; `fronts` below)
    "other_fronts_30d",
    "log_other_front_deaths_30d",
    "major_power",
    # structural context
    "contiguous",
    "rivalry",
    "past_armed_conflict",
    # casualties: how deadly the dyad's events are (model v3.3)
    "log_max_event_deaths_365d",
    "log_deaths_per_fatal_event_365d",
)
INDEX = {name: i for i, name in enumerate(REFERENCE_NAMES)}


class History:
    """A dyad's facts as sorted arrays with running sums, so each as-of date costs a few bisections."""

    def __init__(self, facts: Sequence[EventFact]):
        facts = sorted(facts, key=lambda f: f.occurred_on)
        n = len(facts)
        self.day = np.array([f.occurred_on.toordinal() for f in facts], dtype=np.int64)
        self.hostility = np.array([f.hostility for f in facts], dtype=np.float64)
        self.rung = np.array([f.rung for f in facts], dtype=np.float64)
        self.fatalities = np.array([f.fatalities for f in facts], dtype=np.float64)
        resp, lag, chain = _reciprocity(facts)
        self.lag, self.chain = lag, chain
        cols = [
            np.ones(n),
            self.fatalities,
            [f.civilian_fatalities for f in facts],
            self.fatalities > 0,
            self.hostility >= 4,
            resp,
            [f.cross_border for f in facts],
            [f.standoff for f in facts],
            [f.deescalation for f in facts],
            [f.retaliation for f in facts],
        ]
        self.cum = np.zeros((n + 1, len(cols)))
        if n:
            self.cum[1:] = np.cumsum(np.column_stack([np.asarray(c, dtype=np.float64) for c in cols]), axis=0)
        self.initiator = [f.initiator if _militarized(f) else None for f in facts]
        self.deesc_days = self.day[np.array([f.deescalation for f in facts], dtype=bool)]
        self.force_days = self.day[self.hostility >= 4]

    def upto(self, day: int) -> int:
        """Number of facts on or before `day`."""
        return int(np.searchsorted(self.day, day, side="right"))


# Column order of History.cum.
_N, _FAT, _CIV, _FATAL, _UOF, _RESP, _CROSS, _STANDOFF, _DEESC, _FLAGGED = range(10)


def _militarized(f: EventFact) -> bool:
    """A directed hostile act (threat or worse): talks, agreements and non-militarized acts are no strike."""
    return f.directed and f.hostility >= 2 and not f.deescalation


def _last(days: np.ndarray, t: int) -> int | None:
    i = int(np.searchsorted(days, t, side="right"))
    return int(days[i - 1]) if i else None


def _reciprocity(facts: Sequence[EventFact]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per fact: is it a response (flagged or inferred), its lag in days, and its tit-for-tat chain length."""
    n = len(facts)
    resp, lag, chain = np.zeros(n), np.full(n, np.nan), np.zeros(n)
    for i, f in enumerate(facts):
        if not _militarized(f) or f.target is None:
            resp[i] = f.retaliation
            continue
        chain[i] = 1
        for j in range(i - 1, -1, -1):  # latest earlier strike the other way, within the window
            g = facts[j]
            gap = (f.occurred_on - g.occurred_on).days
            if gap > RESPONSE_WINDOW:
                break
            if _militarized(g) and g.initiator == f.target and g.target == f.initiator:
                resp[i], lag[i], chain[i] = 1, gap, chain[j] + 1
                break
        if f.retaliation and not resp[i]:
            resp[i], chain[i] = 1, 2  # answers something outside this dyad's recorded history
    return resp, lag, chain


def _window(h: History, lo: int, hi: int) -> np.ndarray:
    return h.cum[hi] - h.cum[lo]


def features_into(out: np.ndarray, h: History, as_of: date, context: DyadContext) -> None:
    """Fill `out` (len(REFERENCE_NAMES)) with the features of history `h` as of `as_of`."""
    t = as_of.toordinal()
    end = h.upto(t)
    i7, i30, i60, i365 = (h.upto(t - d) for d in (7, 30, 60, 365))
    w30, prev30, w365 = _window(h, i30, end), _window(h, i60, i30), _window(h, i365, end)
    out[:] = 0.0
    out[INDEX["events_7d"]] = end - i7
    out[INDEX["events_30d"]] = w30[_N]
    out[INDEX["events_365d"]] = w365[_N]
    out[INDEX["events_trend_30d"]] = w30[_N] - prev30[_N]
    out[INDEX["days_since_last"]] = min(t - h.day[end - 1], NEVER) if end else NEVER
    out[INDEX["history_days"]] = min(t - h.day[0], NEVER) if end else 0
    if end:
        out[INDEX["last_hostility"]] = h.hostility[end - 1]
        out[INDEX["last_rung"]] = h.rung[end - 1]
    if end > i365:
        out[INDEX["max_hostility_365d"]] = h.hostility[i365:end].max()
    max30 = h.hostility[i30:end].max() if end > i30 else 0.0
    out[INDEX["max_hostility_30d"]] = max30
    out[INDEX["max_rung_30d"]] = h.rung[i30:end].max() if end > i30 else 0.0
    out[INDEX["hostility_trend_30d"]] = max30 - (h.hostility[i60:i30].max() if i30 > i60 else 0.0)
    out[INDEX["use_of_force_30d"]] = w30[_UOF]
    out[INDEX["log_fatalities_30d"]] = np.log1p(w30[_FAT])
    out[INDEX["log_fatalities_365d"]] = np.log1p(w365[_FAT])
    out[INDEX["log_civilian_fatalities_30d"]] = np.log1p(w30[_CIV])
    out[INDEX["fatal_events_30d"]] = w30[_FATAL]
    out[INDEX["fatality_trend_30d"]] = np.log1p(w30[_FAT]) - np.log1p(prev30[_FAT])
    out[INDEX["log_fatalities_7d"]] = np.log1p(_window(h, i7, end)[_FAT])
    for half_life in DECAY_HALF_LIVES:  # each death in the past year, weighing half as much every half-life
        out[INDEX[f"decayed_deaths_{half_life}d"]] = sum(
            h.fatalities[k] * 2.0 ** (-(t - h.day[k]) / half_life) for k in range(i365, end))
    year = [h.fatalities[k] for k in range(i365, end)]
    out[INDEX["log_max_event_deaths_365d"]] = np.log1p(max(year, default=0.0))
    fatal = [d for d in year if d > 0]
    out[INDEX["log_deaths_per_fatal_event_365d"]] = np.log1p(sum(fatal) / len(fatal)) if fatal else 0.0
    out[INDEX["responses_30d"]] = w30[_RESP]
    out[INDEX["response_lag_days"]] = RESPONSE_WINDOW + 1  # "no response" sorts after the slowest one
    if end > i30:
        out[INDEX["tit_for_tat_chain_30d"]] = h.chain[i30:end].max()
        lags = h.lag[i30:end][~np.isnan(h.lag[i30:end])]
        if lags.size:
            out[INDEX["response_lag_days"]] = lags[-1]
        # did the target strike back: both sides initiated within 30 days (any order, any lag), or a flagged retaliation
        both_sides = len({m for m in h.initiator[i30:end] if m is not None}) >= 2
        out[INDEX["reciprocated_30d"]] = float(both_sides or w30[_FLAGGED] > 0)
    if context.kind in DYAD_KINDS:
        out[INDEX[f"kind_{context.kind}"]] = 1.0
    out[INDEX["cross_border_30d"]] = w30[_CROSS]
    out[INDEX["standoff_30d"]] = w30[_STANDOFF]
    out[INDEX["deescalation_30d"]] = w30[_DEESC]
    calm, force = _last(h.deesc_days, t), _last(h.force_days, t)
    out[INDEX["deescalated_since_fighting"]] = float(
        calm is not None and force is not None and t - calm <= CALM_WINDOW and calm >= force
        and t - force <= FIGHTING_WINDOW
    )
    out[INDEX["other_fronts_30d"]] = float(context.fronts.count)
    out[INDEX["log_other_front_deaths_30d"]] = np.log1p(context.fronts.deaths)
    out[INDEX["major_power"]] = float(context.major_power)
    out[INDEX["contiguous"]] = float(context.contiguous)
    out[INDEX["rivalry"]] = float(context.rivalry)
    out[INDEX["past_armed_conflict"]] = float(context.past_armed_conflict)


def build_features(facts: Sequence[EventFact], as_of: date, context: DyadContext) -> np.ndarray:
    """Feature vector of one dyad as of a date (facts after `as_of` are ignored)."""
    out = np.empty(len(REFERENCE_NAMES))
    features_into(out, History(facts), as_of, context)
    return out


def build_matrix(items: Sequence[tuple[Sequence[EventFact], date, DyadContext]]) -> np.ndarray:
    """Feature rows for many (facts, as_of, context); a history object is reused for a repeated facts list."""
    out = np.empty((len(items), len(REFERENCE_NAMES)))
    cache: dict[int, tuple[Sequence[EventFact], History]] = {}
    for row, (facts, as_of, context) in enumerate(items):
        hit = cache.get(id(facts))
        if hit is None or hit[0] is not facts:
            hit = cache[id(facts)] = (facts, History(facts))
        features_into(out[row], hit[1], as_of, context)
    return out


# ---- drivers (app/ml/explain.py)

_NUMBERS = ("the same day", "one day", "two days", "three days", "four days", "five days", "six days")


def name(member: str) -> str:
    """A member id in words: Pakistan, Jaish Al Adl, civilians in Pakistan."""
    kind, _, rest = member.rpartition(":")
    if kind == "nsa":
        return rest.replace("-", " ").title()
    country = pycountry.countries.get(alpha_3=rest)
    words = getattr(country, "common_name", None) or getattr(country, "name", None) or rest
    return f"civilians in {words}" if kind == "civ" else words


def _fact(f: EventFact) -> dict:
    return {"occurred_on": f.occurred_on.isoformat(), "initiator": f.initiator, "target": f.target,
            "hostility": HOSTILITY_LABELS.get(f.hostility, str(f.hostility)), "fatalities": f.fatalities,
            **({"retaliation": True} if f.retaliation else {}), **({"deescalation": True} if f.deescalation else {})}


def _after(days: int) -> str:
    return _NUMBERS[days] if days < len(_NUMBERS) else f"{days} days"


def _retaliation(recent: list[EventFact], x: dict) -> tuple[str, list]:
    for i in range(len(recent) - 1, -1, -1):
        f = recent[i]
        if not f.directed or f.hostility < 2 or f.deescalation or f.target is None:
            continue
        for g in reversed(recent[:i]):
            if g.directed and g.hostility >= 2 and g.initiator == f.target and g.target == f.initiator:
                gap = (f.occurred_on - g.occurred_on).days
                when = "the same day as" if gap == 0 else f"{_after(gap)} after"
                return f"{name(f.initiator)} struck back {when} {name(g.initiator)}'s strike", [_fact(g), _fact(f)]
        if f.retaliation:
            return f"{name(f.initiator)} retaliated (reported as retaliation)", [_fact(f)]
    if x["tit_for_tat_chain_30d"] == 0:
        return "no strike in the last 30 days", []
    return f"no strike answered in the last {RESPONSE_WINDOW} days", []


def _casualties(recent: list[EventFact], x: dict, year: list[EventFact]) -> tuple[str, list]:
    deaths, civ = sum(f.fatalities for f in recent), sum(f.civilian_fatalities for f in recent)
    fatal = [_fact(f) for f in recent if f.fatalities][-5:]
    deadliest, past = max((f.fatalities for f in year), default=0), sum(f.fatalities for f in year)
    if deaths:
        where = ", in one event" if deadliest == past else f", {deadliest} in the deadliest event of the past year"
        return f"{deaths} killed in the last 30 days" + (f" ({civ} civilians)" if civ else "") + where, fatal
    if not past:
        return "no deaths recorded in the past year", fatal
    where = "in one event" if deadliest == past else f"{deadliest} in the deadliest event"
    return f"{past} killed in the past year ({where}), none in the last 30 days", fatal


def _tempo(facts: list[EventFact], recent: list[EventFact], as_of: date) -> tuple[str, list]:
    if not facts:
        return "no events recorded between them", []
    quiet = (as_of - facts[-1].occurred_on).days
    new = " (their first recorded events)" if (as_of - facts[0].occurred_on).days < 30 else ""
    if recent:
        return (f"{len(recent)} event{'s' * (len(recent) > 1)} in the last 30 days{new}, "
                f"the last on {facts[-1].occurred_on.isoformat()}"), []
    return f"last event on {facts[-1].occurred_on.isoformat()}, {quiet} days before", [_fact(facts[-1])]


def _act(f: EventFact) -> str:
    return f"{name(f.initiator)}'s {HOSTILITY_LABELS[int(f.hostility)].replace('_', ' ')} on {f.occurred_on.isoformat()}"


def _severity(known: list[EventFact], recent: list[EventFact], x: dict) -> tuple[str, list]:
    if not recent:
        if not known:
            return "no act recorded between them", []
        return f"the last act, {_act(known[-1])}", [_fact(known[-1])]
    top = max(recent, key=lambda f: (f.hostility, f.rung))
    words = [f"{_act(top)}, the most severe act in the last 30 days"]
    if x["cross_border_30d"]:
        words.append("across a border")
    if x["standoff_30d"]:
        words.append("with stand-off weapons")
    return ", ".join(words), [_fact(top)]


def _deescalation(facts: list[EventFact], x: dict) -> tuple[str, list]:
    calm = [_fact(f) for f in facts if f.deescalation][-3:]
    if x["deescalated_since_fighting"]:
        return "talks, a ceasefire, agreement or withdrawal since the last fighting", calm
    if x["deescalation_30d"]:
        return f"{int(x['deescalation_30d'])} de-escalation step(s) in the last 30 days, but fighting since", calm
    return "no talks, ceasefire, agreement or withdrawal recorded", []


def _structural(ctx: DyadContext) -> tuple[str, list]:
    kind = ctx.kind.replace("_", " vs ").replace("nonstate", "non-state")
    ties = ["neighbours"] * ctx.contiguous + ["strategic rivals"] * ctx.rivalry
    ties += ["fought a war or armed conflict before"] * ctx.past_armed_conflict
    ties += ["a major power is involved"] * ctx.major_power
    return f"{kind}, {', '.join(ties) or 'no structural ties'} (against an unrelated pair)", [{"kind": ctx.kind, "contiguous": ctx.contiguous, "rivalry": ctx.rivalry,
                               "past_armed_conflict": ctx.past_armed_conflict, "major_power": ctx.major_power}]


def _contagion(ctx: DyadContext) -> tuple[str, list]:
    fronts = ctx.fronts
    if fronts.count == 0:
        return "no other front of either side in the last 30 days", []
    named = ", ".join(f"{name(d.split('--')[0])} vs {name(d.split('--')[1])} ({n} killed)" for d, n in fronts.dyads)
    more = "" if fronts.count == len(fronts.dyads) else f" and {fronts.count - len(fronts.dyads)} more"
    plural = "s" if fronts.count > 1 else ""
    return (f"{fronts.count} other front{plural} of either side in the last 30 days, {fronts.deaths} killed there: "
            f"{named}{more}"), [{"dyad_id": d, "deaths": n} for d, n in fronts.dyads]


def fronts(links: Sequence[tuple[str, EventFact, object]], dyad: str,
           as_of: date) -> tuple[int, int, list[tuple[str, int]]]:
    """The members' other fronts by brute force over every (dyad id, fact, event) link: (count, deaths, the three
    deadliest (dyad id, deaths), ties by id). A front's event is a use of force or war or has deaths; an event
    linked to the dyad itself is its own, no front; an event on two fronts counts its dead once in the total."""
    mine = [m for m in dyad.split("--") if not m.startswith("civ:")]
    own = {event for other, _, event in links if other == dyad}
    deaths: dict[str, int] = {}
    killed: dict[object, int] = {}
    for other, f, event in links:
        if (other != dyad and event not in own and 0 <= (as_of - f.occurred_on).days < 30
                and (f.hostility >= 4 or f.fatalities > 0) and set(mine) & set(other.split("--"))):
            deaths[other] = deaths.get(other, 0) + f.fatalities
            killed[event] = f.fatalities
    ranked = sorted(deaths.items(), key=lambda kv: (-kv[1], kv[0]))
    return len(deaths), sum(killed.values()), ranked[:3]


def drivers(facts: Sequence[EventFact], as_of: date, ctx: DyadContext, x: dict[str, float],
            contributions: dict[str, float], top: int) -> list[dict]:
    """The `top` themes by absolute contribution, each with its label, facts and per-feature parts."""
    known = sorted((f for f in facts if f.occurred_on <= as_of), key=lambda f: f.occurred_on)
    recent = [f for f in known if (as_of - f.occurred_on).days < 30]
    year = [f for f in known if (as_of - f.occurred_on).days < 365]
    texts = {
        "retaliation": _retaliation(recent, x), "casualties": _casualties(recent, x, year),
        "tempo": _tempo(known, recent, as_of), "severity": _severity(known, recent, x),
        "deescalation": _deescalation(recent, x), "contagion": _contagion(ctx), "structural": _structural(ctx),
    }
    out = []
    for theme, features in THEMES.items():
        total = sum(contributions[f] for f in features)
        text, evidence = texts[theme]
        effect = "raises the risk" if total > 0 else "lowers the risk" if total < 0 else "has no effect"
        out.append({
            "theme": theme, "contribution": total, "label": f"{text}; this {effect}",
            "facts": evidence, "features": {f: x[f] for f in features},
        })
    out.sort(key=lambda d: -abs(d["contribution"]))  # stable: equal themes keep THEMES order
    return out[:top]


# ---- history windows (app/events/history.py)

@dataclass
class Window:
    """A dyad's facts as of a date: the look-back window up to its last event, and its first event."""

    last_on: date | None = None  # the last live event on or before the date asked for
    facts: list[EventFact] = field(default_factory=list)  # oldest first
    in_window: int = 0  # events within the look-back window (what `event_count` reports)


@lru_cache(maxsize=4096)
def _weapons(stored: str) -> tuple[str, ...]:
    # Histories repeat a handful of weapon lists; decoding each distinct JSON text once saves a
    # json.loads per event on every re-assessment.
    return tuple(json.loads(stored))


def _live_links(*columns, dyad=Dyad.id, until: date | None = None):
    stmt = (select(*columns).join(Event, Event.id == EventDyad.event_id)
            .where(EventDyad.dyad_id == dyad, Event.retracted_at.is_(None)))
    return stmt.where(EventDyad.occurred_on <= until) if until else stmt


# The windows to read, as one JSON parameter expanded into rows by the database: one cached
# statement whatever the number of dyads (an OR of ranges would be compiled anew every time).
_SPEC = {
    "postgresql": "jsonb_to_recordset(CAST(:spec AS jsonb)) AS w(dyad_id text, lo date, hi date)",
    "sqlite": "(SELECT json_extract(value, '$.dyad_id') AS dyad_id, json_extract(value, '$.lo') AS lo,"
              " json_extract(value, '$.hi') AS hi FROM json_each(:spec)) AS w",
}
_COLUMNS = ("ed.dyad_id, ed.initiator, ed.target, e.occurred_on, e.action, CAST(e.weapons AS TEXT) AS weapons,"
            " e.fatalities, e.civilian_fatalities, e.retaliation, e.actor1_country, e.location_country, e.id")
_TYPED = (EventDyad.dyad_id, EventDyad.initiator, EventDyad.target, Event.occurred_on, Event.action,
          column("weapons", Text), Event.fatalities, Event.civilian_fatalities, Event.retaliation,
          Event.actor1_country, Event.location_country, Event.id)


def windows(session: Session, dyad_ids: Sequence[str], lookback_days: int,
            until: date | None = None) -> dict[str, Window]:
    """Each dyad's bounded live history as of `until` (default: all stored events)."""
    out = {d: Window() for d in dyad_ids}
    last_on = (_live_links(EventDyad.occurred_on, until=until)
               .order_by(EventDyad.occurred_on.desc()).limit(1).scalar_subquery())
    first_id = (_live_links(EventDyad.event_id)
                .order_by(EventDyad.occurred_on, EventDyad.event_id).limit(1).scalar_subquery())
    spec, firsts = [], {}
    for dyad_id, last, first in session.execute(select(Dyad.id, last_on, first_id).where(Dyad.id.in_(dyad_ids))):
        if last is not None:
            lo = last - timedelta(days=lookback_days)
            out[dyad_id].last_on = last
            spec.append({"dyad_id": dyad_id, "lo": lo.isoformat(), "hi": last.isoformat()})
            firsts[(dyad_id, first)] = lo
    if not spec:
        return out
    dialect = session.get_bind().dialect.name
    in_window = text(f"SELECT {_COLUMNS} FROM {_SPEC[dialect]}"
                     " JOIN event_dyad ed ON ed.dyad_id = w.dyad_id AND ed.occurred_on BETWEEN w.lo AND w.hi"
                     " JOIN event e ON e.id = ed.event_id WHERE e.retracted_at IS NULL").columns(*_TYPED)
    rows = list(session.execute(in_window, {"spec": json.dumps(spec)}))
    rows += [r for r in session.execute(
        select(*_TYPED[:5], cast(Event.weapons, Text).label("weapons"), *_TYPED[6:])
        .join(Event, Event.id == EventDyad.event_id).where(EventDyad.event_id.in_({e for _, e in firsts})))
        if (r.dyad_id, r.id) in firsts and r.occurred_on < firsts[(r.dyad_id, r.id)]]  # not already in its window
    rows.sort(key=lambda r: (r.occurred_on, r.id))
    for r in rows:
        window = out[r.dyad_id]
        window.in_window += r.occurred_on >= window.last_on - timedelta(days=lookback_days)
        window.facts.append(dyad_rules.make_fact(
            r.initiator, r.target, occurred_on=r.occurred_on, action=r.action, weapons=_weapons(r.weapons),
            fatalities=r.fatalities, civilian_fatalities=r.civilian_fatalities, retaliation=r.retaliation,
            actor1_country=r.actor1_country, location_country=r.location_country))
    return out


# ---- score_many (app/ml/scorer.py) and the ranking (app/risk/service.py), for the benchmarks' "before"


def score_many(scorer, items) -> list:
    """Scorer.score_many as it was: the reference features and drivers around the same model."""
    from scipy.special import expit

    from app.ml.scorer import _THREADS, TOP_DRIVERS, Score

    from app.ml import features
    from app.ml.risk_model import sum_last

    # The reference's features, but the decayed deaths: float sums it adds in another order (equal to 1e-12,
    # tests/ml/test_features_reference.py), taken from the app so that the scores can be compared exactly.
    names = list(features.FEATURE_NAMES)
    X, ref = features.build_matrix(items), build_matrix(items)
    exact = [n for n in REFERENCE_NAMES if not n.startswith("decayed_deaths_")]
    X[:, [names.index(n) for n in exact]] = ref[:, [REFERENCE_NAMES.index(n) for n in exact]]
    with _THREADS.limit(limits=1, user_api="openmp"):
        contrib = scorer._decomposer.contributions(X)
        probs = {t: terms.proba(X) for t, terms in scorer._secondary.items()}
        baseline = scorer._decomposer.baseline(X)  # per row since v3: calibration by dyad kind
        p_primary = expit(baseline + sum_last(contrib))
        low, high = scorer.models[scorer.primary].interval(X, p_primary)
    probs[scorer.primary] = p_primary
    out = []
    for i, (facts, as_of, context) in enumerate(items):
        x = dict(zip(names, X[i].tolist()))
        parts = dict(zip(names, contrib[i].tolist()))
        out.append(Score(
            probabilities={t: float(probs[t][i]) for t in scorer.targets},
            interval={"low": float(low[i]), "high": float(high[i]), "level": scorer.models[scorer.primary].level},
            level=scorer.level_for(float(p_primary[i])),
            drivers=drivers(facts, as_of, context, x, parts, TOP_DRIVERS),
            features=x,
            explanation={"unit": "log_odds", "baseline": float(baseline[i]), "contributions": parts},
        ))
    return out


def ranked(session: Session, scorer, as_of: date) -> list:
    """risk.service.ranked as it was, with an empty cache: ORM rows, the reference read and scores,
    a validated RiskRead and DyadRead per dyad."""
    from app.risk.models import DyadRisk
    from app.risk.schemas import DyadRead, RiskRead

    rows = [(d, m) for d, m in session.execute(
        select(Dyad, DyadRisk.assessment_id).join(DyadRisk, DyadRisk.dyad_id == Dyad.id))]
    found = windows(session, [d.id for d, _ in rows], 365 + 2 * RESPONSE_WINDOW, until=as_of)
    scores = score_many(scorer, [(found[d.id].facts, as_of, scorer.context_for(d.member_a, d.member_b, as_of))
                                 for d, _ in rows])
    risks = [(d, RiskRead(
        dyad_id=d.id, members=(d.member_a, d.member_b), kind=d.kind, as_of=as_of,
        probability=s.probabilities[scorer.primary], interval=s.interval, probabilities=s.probabilities,
        level=s.level, drivers=s.drivers, explanation=s.explanation, features=s.features, model_version=scorer.version,
        last_event_on=found[d.id].last_on, event_count=found[d.id].in_window, latest_assessment_id=m))
        for (d, m), s in zip(rows, scores)]
    risks.sort(key=lambda dr: (-dr[1].probability, dr[0].id))
    return [DyadRead(id=d.id, members=(d.member_a, d.member_b), kind=d.kind, current=r) for d, r in risks]
