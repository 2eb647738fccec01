"""Drivers an analyst can read: the log-odds contributions grouped into themes, with the facts behind them.

A theme's contribution is the sum of its features' contributions (exact: the model is additive).
Each driver carries a plain-language label built from the dyad's own events, and says whether
the data make that theme raise or lower the risk: no sign is forced. The texts read the rows of the
features' `Batch` (each row's window bounds are already known), so a batch costs Python only over
each dyad's last 30 days of events.
"""

from datetime import date
from functools import lru_cache
from operator import itemgetter

import numpy as np
import pycountry

from app.events import members as member_ids
from app.events.facts import DyadContext
from app.events.vocabulary import HOSTILITY_LABELS
from app.ml.features import FEATURE_NAMES, FEATURES, RESPONSE_WINDOW, THEME_NAMES, Batch
from app.ml.fronts import FRONT_WINDOW

# the features of each driver theme, as the registry declares them
THEMES: dict[str, tuple[str, ...]] = {theme: tuple(f.name for f in FEATURES if f.theme == theme) for theme in THEME_NAMES}
assert all(THEMES.values()), "every theme has a feature"
# per theme, a C-level getter of its features' values from a row in FEATURE_NAMES order
_PICK = {theme: (lambda row, i=FEATURE_NAMES.index(fs[0]): (row[i],)) if len(fs) == 1
         else itemgetter(*(FEATURE_NAMES.index(f) for f in fs)) for theme, fs in THEMES.items()}
_NUMBERS = ("the same day", "one day", "two days", "three days", "four days", "five days", "six days")


@lru_cache(maxsize=4096)
def name(member: str) -> str:
    """A member id in words: Pakistan, Jaish Al Adl, civilians in Pakistan."""
    kind, _, rest = member.rpartition(":")
    if kind == "nsa":
        return rest.replace("-", " ").title()
    country = pycountry.countries.get(alpha_3=rest)
    words = getattr(country, "common_name", None) or getattr(country, "name", None) or rest
    return f"civilians in {words}" if kind == "civ" else words


def _after(days: int) -> str:
    return _NUMBERS[days] if days < len(_NUMBERS) else f"{days} days"


@lru_cache(maxsize=1024)
def _structural_text(ctx: DyadContext) -> str:
    kind = ctx.kind.replace("_", " vs ").replace("nonstate", "non-state")
    ties = ["neighbours"] * ctx.contiguous + ["strategic rivals"] * ctx.rivalry
    ties += ["fought a war or armed conflict before"] * ctx.past_armed_conflict
    ties += ["a major power is involved"] * ctx.major_power
    return f"{kind}, {', '.join(ties) or 'no structural ties'} (against an unrelated pair)"


def _structural(ctx: DyadContext) -> tuple[str, list]:
    return _structural_text(ctx), [{"kind": ctx.kind, "contiguous": ctx.contiguous, "rivalry": ctx.rivalry,
                                    "past_armed_conflict": ctx.past_armed_conflict, "major_power": ctx.major_power}]


def _contagion(ctx: DyadContext) -> tuple[str, list]:
    fronts = ctx.fronts
    if not fronts.count:
        return f"no other front of either side in the last {FRONT_WINDOW} days", []
    named = ", ".join(f"{' vs '.join(map(name, member_ids.dyad_members(d)))} ({n} killed)" for d, n in fronts.dyads)
    more = f" and {fronts.count - len(fronts.dyads)} more" if fronts.count > len(fronts.dyads) else ""
    return (f"{fronts.count} other front{'s' * (fronts.count > 1)} of either side in the last {FRONT_WINDOW} days, "
            f"{fronts.deaths} killed there: {named}{more}"), [{"dyad_id": d, "deaths": n} for d, n in fronts.dyads]


@lru_cache(maxsize=8192)
def _iso(day: int) -> str:
    return date.fromordinal(day).isoformat()


class Drivers:
    """The drivers of each row of a features `Batch` (its columns read once as Python lists)."""

    def __init__(self, batch: Batch):
        f, self.batch = batch.facts, batch
        self.members = f.members
        start, end, i30 = batch.start, batch.end, batch.upto(30)
        # Per row, the facts its texts read: the last 30 days (lo..hi), or the last fact when those are none; as
        # Python lists of just those, each row's facts at shift[r] from their place in the batch. (Rows that share
        # a history, dates of one dyad, each convert their own: the service scores one row per dyad.)
        first = np.where(end > start, np.minimum(i30, end - 1), end)
        sizes = end - first
        offsets = np.cumsum(sizes) - sizes
        shift = offsets - first
        read = np.arange(int(sizes.sum()), dtype=np.int64) - np.repeat(shift, sizes)
        self.day, self.initiator = f.day[read].tolist(), f.initiator[read].tolist()
        self.target = f.target[read].tolist()
        self.hostility, self.rung = f.hostility[read].tolist(), f.rung[read].tolist()
        self.fatalities, self.civilian = f.fatalities[read].tolist(), f.civilian_fatalities[read].tolist()
        self.retaliation, self.deescalation, self.directed = (
            f.retaliation[read].tolist(), f.deescalation[read].tolist(), f.directed[read].tolist())
        self.lo, self.hi = (i30 + shift).tolist(), (end + shift).tolist()
        self.t, self.none = batch.t.tolist(), (end == start).tolist()
        self.first_day = f.day[start].tolist()  # (the padding fact's for a dyad with none: not read)
        self.past_year = batch.deaths(batch.upto(365), end).tolist()
        self.deadliest = batch.max(f.fatalities, batch.upto(365), end).astype(np.int64).tolist()  # one event's deaths

    def _fact(self, i: int) -> dict:
        target, hostility = self.target[i], self.hostility[i]
        out = {"occurred_on": _iso(self.day[i]), "initiator": self.members[self.initiator[i]],
               "target": None if target < 0 else self.members[target],
               "hostility": HOSTILITY_LABELS.get(hostility, str(hostility)), "fatalities": self.fatalities[i]}
        if self.retaliation[i]:
            out["retaliation"] = True
        if self.deescalation[i]:
            out["deescalation"] = True
        return out

    def _strike(self, i: int) -> bool:
        return self.directed[i] and self.hostility[i] >= 2

    def _retaliation(self, lo: int, hi: int, x: dict) -> tuple[str, list]:
        for i in range(hi - 1, lo - 1, -1):
            if not self._strike(i) or self.deescalation[i] or self.target[i] < 0:
                continue
            for j in range(i - 1, lo - 1, -1):
                if self._strike(j) and self.initiator[j] == self.target[i] and self.target[j] == self.initiator[i]:
                    gap = self.day[i] - self.day[j]
                    when = "the same day as" if gap == 0 else f"{_after(gap)} after"
                    by, to = name(self.members[self.initiator[i]]), name(self.members[self.initiator[j]])
                    return f"{by} struck back {when} {to}'s strike", [self._fact(j), self._fact(i)]
            if self.retaliation[i]:
                return f"{name(self.members[self.initiator[i]])} retaliated (reported as retaliation)", [self._fact(i)]
        if x["tit_for_tat_chain_30d"] == 0:
            return "no strike in the last 30 days", []
        return f"no strike answered in the last {RESPONSE_WINDOW} days", []

    def _casualties(self, lo: int, hi: int, past: int, deadliest: int) -> tuple[str, list]:
        deaths, civ = sum(self.fatalities[lo:hi]), sum(self.civilian[lo:hi])
        fatal = [self._fact(i) for i in range(lo, hi) if self.fatalities[i]][-5:]
        one = deadliest == past  # the year's deaths were all in one event
        if deaths:
            return (f"{deaths} killed in the last 30 days" + (f" ({civ} civilians)" if civ else "")
                    + (", in one event" if one else f", {deadliest} in the deadliest event of the past year")), fatal
        return (f"{past} killed in the past year ({'in one event' if one else f'{deadliest} in the deadliest event'}), "
                "none in the last 30 days" if past else "no deaths recorded in the past year"), fatal

    def _tempo(self, r: int, lo: int, hi: int, t: int) -> tuple[str, list]:
        if self.none[r]:
            return "no events recorded between them", []
        quiet = t - self.day[hi - 1]
        new = " (their first recorded events)" if t - self.first_day[r] < 30 else ""
        if hi > lo:
            n = hi - lo
            return f"{n} event{'s' * (n > 1)} in the last 30 days{new}, the last on {_iso(self.day[hi - 1])}", []
        return f"last event on {_iso(self.day[hi - 1])}, {quiet} days before", [self._fact(hi - 1)]

    def _act(self, i: int) -> str:
        return (f"{name(self.members[self.initiator[i]])}'s {HOSTILITY_LABELS[self.hostility[i]].replace('_', ' ')} "
                f"on {_iso(self.day[i])}")

    def _severity(self, r: int, lo: int, hi: int, x: dict) -> tuple[str, list]:
        if hi == lo:
            if self.none[r]:
                return "no act recorded between them", []
            return f"the last act, {self._act(hi - 1)}", [self._fact(hi - 1)]
        top = max(range(lo, hi), key=lambda i: (self.hostility[i], self.rung[i]))  # the first of equals
        words = [f"{self._act(top)}, the most severe act in the last 30 days"]
        if x["cross_border_30d"]:
            words.append("across a border")
        if x["standoff_30d"]:
            words.append("with stand-off weapons")
        return ", ".join(words), [self._fact(top)]

    def _deescalation(self, lo: int, hi: int, x: dict) -> tuple[str, list]:
        calm = [self._fact(i) for i in range(lo, hi) if self.deescalation[i]][-3:]
        if x["deescalated_since_fighting"]:
            return "talks, a ceasefire, agreement or withdrawal since the last fighting", calm
        if x["deescalation_30d"]:
            return f"{int(x['deescalation_30d'])} de-escalation step(s) in the last 30 days, but fighting since", calm
        return "no talks, ceasefire, agreement or withdrawal recorded", []

    def row(self, r: int, x: dict[str, float], x_row: list[float], parts_row: list[float], top: int) -> list[dict]:
        """Row r's `top` themes by absolute contribution, each with its label, facts and per-feature parts
        (`x` the row's features by name, `x_row` and `parts_row` its features and contributions in FEATURE_NAMES order)."""
        lo, hi = self.lo[r], self.hi[r]  # the last 30 days: facts lo..hi
        texts = {
            "retaliation": self._retaliation(lo, hi, x),
            "casualties": self._casualties(lo, hi, self.past_year[r], self.deadliest[r]),
            "tempo": self._tempo(r, lo, hi, self.t[r]), "severity": self._severity(r, lo, hi, x),
            "deescalation": self._deescalation(lo, hi, x), "contagion": _contagion(self.batch.contexts[r]),
            "structural": _structural(self.batch.contexts[r]),
        }
        out = []
        for theme, features in THEMES.items():
            pick = _PICK[theme]
            total = sum(pick(parts_row))  # left to right, as the features are listed
            text, evidence = texts[theme]
            effect = "raises the risk" if total > 0 else "lowers the risk" if total < 0 else "has no effect"
            out.append({
                "theme": theme, "contribution": total, "label": f"{text}; this {effect}",
                "facts": evidence, "features": dict(zip(features, pick(x_row))),
            })
        out.sort(key=lambda d: -abs(d["contribution"]))  # stable: equal themes keep THEMES order
        return out[:top]
