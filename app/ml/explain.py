"""Drivers an analyst can read: the log-odds contributions grouped into themes, with the facts behind them.

A theme's contribution is the sum of its features' contributions (exact: the model is additive).
Each driver carries a plain-language label built from the dyad's own events, and says whether
the data make that theme raise or lower the risk: no sign is forced.
"""

from collections.abc import Sequence
from datetime import date

import pycountry

from app.events.facts import DyadContext, EventFact
from app.events.vocabulary import HOSTILITY_LABELS
from app.ml.features import FEATURE_NAMES, RESPONSE_WINDOW

THEMES: dict[str, tuple[str, ...]] = {
    "retaliation": ("responses_30d", "reciprocated_30d", "tit_for_tat_chain_30d", "response_lag_days"),
    "casualties": ("log_fatalities_30d", "log_fatalities_365d", "log_civilian_fatalities_30d", "fatal_events_30d",
                   "fatality_trend_30d", "log_fatalities_7d"),
    "tempo": ("events_7d", "events_30d", "events_365d", "days_since_last", "events_trend_30d", "history_days"),
    "severity": ("max_hostility_30d", "max_hostility_365d", "last_hostility", "max_rung_30d", "last_rung",
                 "hostility_trend_30d", "use_of_force_30d", "cross_border_30d", "standoff_30d"),
    "deescalation": ("deescalation_30d", "deescalated_since_fighting"),
    "structural": tuple(n for n in FEATURE_NAMES if n.startswith("kind_"))
    + ("major_power", "contiguous", "rivalry", "past_armed_conflict"),
}
assert sorted(f for fs in THEMES.values() for f in fs) == sorted(FEATURE_NAMES), "every feature has one theme"
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
    if deaths:
        return f"{deaths} killed in the last 30 days" + (f" ({civ} civilians)" if civ else ""), fatal
    past = sum(f.fatalities for f in year)
    return "no deaths in the last 30 days" + (f", {past} in the past year" if past else ""), fatal


def _tempo(facts: list[EventFact], recent: list[EventFact], as_of: date) -> tuple[str, list]:
    if not facts:
        return "no events recorded between them", []
    quiet = (as_of - facts[-1].occurred_on).days
    last = "today" if quiet == 0 else f"{quiet} days ago"
    new = " (their first recorded events)" if (as_of - facts[0].occurred_on).days < 30 else ""
    if recent:
        return f"{len(recent)} event{'s' * (len(recent) > 1)} in the last 30 days{new}, the last {last}", []
    return f"quiet for {quiet} days", [_fact(facts[-1])]


def _severity(recent: list[EventFact], x: dict) -> tuple[str, list]:
    if not recent:
        return "no hostile act in the last 30 days", []
    top = max(recent, key=lambda f: (f.hostility, f.rung))
    words = [f"highest act in the last 30 days: {HOSTILITY_LABELS[int(top.hostility)].replace('_', ' ')}"]
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
    parts = [kind, "neighbours" if ctx.contiguous else "not neighbours"]
    parts += ["strategic rivals"] * ctx.rivalry + ["fought a war or armed conflict before"] * ctx.past_armed_conflict
    parts += ["a major power is involved"] * ctx.major_power
    return ", ".join(parts), [{"kind": ctx.kind, "contiguous": ctx.contiguous, "rivalry": ctx.rivalry,
                               "past_armed_conflict": ctx.past_armed_conflict, "major_power": ctx.major_power}]


def drivers(facts: Sequence[EventFact], as_of: date, ctx: DyadContext, x: dict[str, float],
            contributions: dict[str, float], top: int) -> list[dict]:
    """The `top` themes by absolute contribution, each with its label, facts and per-feature parts."""
    known = sorted((f for f in facts if f.occurred_on <= as_of), key=lambda f: f.occurred_on)
    recent = [f for f in known if (as_of - f.occurred_on).days < 30]
    year = [f for f in known if (as_of - f.occurred_on).days < 365]
    texts = {
        "retaliation": _retaliation(recent, x), "casualties": _casualties(recent, x, year),
        "tempo": _tempo(known, recent, as_of), "severity": _severity(recent, x),
        "deescalation": _deescalation(recent, x), "structural": _structural(ctx),
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
