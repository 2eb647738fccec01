"""Structural context of a dyad: contiguity, strategic rivalry, major-power status, past armed conflict.

Built at training time from peacesciencer's cow_contdir (land/river border or up to 24 miles of
water: conttype 1-3), td_rivalries + tss_rivalries (union), cow_majors, and, for past armed
conflict, COW inter-state wars (cow_war_inter, 1816-2003) plus UCDP/PRIO interstate conflict-years
(ucdp_acd, 1946-2024, primary and secondary parties), mapped to ISO3 and saved as a small derived
table in models/ so serving never reads ../shared. A spell that runs to the last year its source
covers is treated as ongoing. Only state members have context.

Point in time: a yearly table contributes only years before the as-of date. Contiguity, rivalry
and major-power status are read for the previous year; `past_armed_conflict` is any war or
armed-conflict year between the two before the as-of year.
"""

import csv
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from app.events.members import dyad_kind, is_state
from app.importers.crosswalk import cow_to_iso3, gw_to_iso3
from app.events.facts import DyadContext

CONTEXT_FILES = [f"peacesciencer/{n}.csv" for n in
                 ("cow_contdir", "td_rivalries", "tss_rivalries", "cow_majors", "cow_war_inter", "ucdp_acd")]
Spell = tuple[int, int | None]  # first year, last year (None: ongoing)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _spells(rows: list[dict[str, str]], a: str, b: str | None, start: str, end: str) -> list[list]:
    """[iso_a, iso_b, first, last] per row; spells ending in the source's last year stay open."""
    last_year = max(int(float(r[end][:4])) for r in rows)
    out = []
    for r in rows:
        isos = [cow_to_iso3(int(float(r[c]))) for c in (a, b) if c]
        if None in isos or (b and isos[0] == isos[1]):
            continue
        first, last = int(float(r[start][:4])), int(float(r[end][:4]))
        out.append([*sorted(isos), first, None if last == last_year else last])
    return out


def _codes(*cells: str) -> list[int]:
    return [int(float(c)) for cell in cells for c in cell.split(",") if c.strip()]


def _conflict_years(ps: Path) -> list[list]:
    """[iso_a, iso_b, year, year] for every year two states fought a COW war or a UCDP interstate conflict."""
    pairs: set[tuple[str, str, int]] = set()
    for r in _rows(ps / "cow_war_inter.csv"):
        a, b = cow_to_iso3(int(float(r["ccode1"]))), cow_to_iso3(int(float(r["ccode2"])))
        if a and b and a != b and r["sidea1"] != r["sidea2"]:
            pairs.add((*sorted((a, b)), int(float(r["year"]))))
    for r in _rows(ps / "ucdp_acd.csv"):
        if r["type_of_conflict"] != "interstate":
            continue
        side_a = {gw_to_iso3(c) for c in _codes(r["gwno_a"], r["gwno_a_2nd"])} - {None}
        side_b = {gw_to_iso3(c) for c in _codes(r["gwno_b"], r["gwno_b_2nd"])} - {None}
        pairs |= {(*sorted((a, b)), int(float(r["year"]))) for a in side_a for b in side_b if a != b}
    return [[a, b, y, y] for a, b, y in sorted(pairs)]


def build_table(data_dir: Path) -> dict:
    """The derived context table (ISO3 pairs and year spells) from ../shared/data/peacesciencer."""
    ps = data_dir / "peacesciencer"
    contdir = [r for r in _rows(ps / "cow_contdir.csv") if 1 <= float(r["conttype"]) <= 3]
    return {
        "contiguous": _spells(contdir, "ccode1", "ccode2", "stdate", "enddate"),
        "rivalry": _spells(_rows(ps / "td_rivalries.csv"), "ccode1", "ccode2", "styear", "endyear")
        + _spells(_rows(ps / "tss_rivalries.csv"), "ccode1", "ccode2", "start", "end"),
        "major_power": _spells(_rows(ps / "cow_majors.csv"), "ccode", None, "styear", "endyear"),
        "armed_conflict": _conflict_years(ps),
    }


def _index(spells: list[list]) -> dict[tuple[str, ...], list[Spell]]:
    out: dict[tuple[str, ...], list[Spell]] = {}
    for *members, first, last in spells:
        out.setdefault(tuple(members), []).append((first, last))
    return out


def _active(spells: list[Spell], year: int) -> bool:
    return any(first <= year and (last is None or year <= last) for first, last in spells)


@dataclass
class ContextTable:
    """Dated structural facts keyed by sorted ISO3 pairs (or single ISO3 for major powers)."""

    table: dict
    _pairs: dict[str, dict] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._pairs = {name: _index(spells) for name, spells in self.table.items()}

    def context_for(self, member_a: str, member_b: str, as_of: date) -> DyadContext:
        kind = dyad_kind(member_a, member_b)
        states = [m for m in (member_a, member_b) if is_state(m)]
        year = as_of.year - 1  # the last full year before the as-of date
        major = any(_active(self._pairs["major_power"].get((s,), []), year) for s in states)
        if len(states) < 2:
            return DyadContext(kind=kind, major_power=major)
        pair = tuple(sorted(states))
        return DyadContext(
            kind=kind,
            contiguous=_active(self._pairs["contiguous"].get(pair, []), year),
            rivalry=_active(self._pairs["rivalry"].get(pair, []), year),
            major_power=major,
            past_armed_conflict=any(first <= year for first, _ in self._pairs["armed_conflict"].get(pair, [])),
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.table, separators=(",", ":")))
