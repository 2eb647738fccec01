"""Interstate crises beyond MIE days: ICB v14 triggers and terminations, MID 5 dispute settlements.

Each reader yields `EventCreate`-shaped dicts, so crisis facts reach the model through the same
contract as MIE rows and API posts:
- ICB actor-level rows (icb2v14.csv): the triggering state (`trigent`) acts on the crisis actor
  (`cracid`) on the trigger date. The trigger type (`triggr`) maps onto the ladder: 9 violent act
  -> attack, 8 indirect violent act and 7 non-violent military act -> show_of_force, 1 verbal
  act -> threat_to_use_force, 2/3/5 political, economic, other non-violent -> no_militarized_action
  (4 external change and 6 internal challenge have no interstate act and give no event). The
  trigger date is also a sample date (`icb_triggers`): a crisis as the service would see it
  when it breaks out, labelled by the violence that followed (from MIE fatalities).
- ICB terminations whose form (`outfor`) is a formal, semi-formal or tacit agreement (1-3)
  -> an `agreement` between the two on the termination date.
- MID 5 disputes settled by negotiation or imposition (MIDA `settle` 1-2) -> an `agreement`
  between every side-A and side-B participant on the dispute's end date.
Unknown days (-9 in MID, blank in ICB) are placed on the last day of the month, as for MIE.
"""

import calendar
import csv
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from app.importers.crosswalk import cow_to_iso3

ICB_ACTORS = "icb-v14/icb2v14.csv"
ICB15_ACTORS = "icb-v15/icb2v15.csv"  # crises to 2019: the episode benchmark after the cut-off (app.ml.findings)
MID_DISPUTES = "mid5/MIDA 5.0.csv"
MID_PARTICIPANTS = "mid5/MIDB 5.0.csv"
TRIGGER_ACTION = {9: "attack", 8: "show_of_force", 7: "show_of_force", 1: "threat_to_use_force",
                  2: "no_militarized_action", 3: "no_militarized_action", 5: "no_militarized_action"}
AGREEMENT_FORMS = {1, 2, 3}  # ICB outfor: formal, semi-formal agreement, tacit understanding
SETTLED = {1, 2}  # MID settle: negotiated, imposed


def _int(text: str) -> int | None:
    try:
        return int(float(text))
    except ValueError:
        return None


def _day(year: int | None, month: int | None, day: int | None) -> date | None:
    if not year or not month or not 1 <= month <= 12:
        return None
    last = calendar.monthrange(year, month)[1]
    return date(year, month, last if not day or day < 1 else min(day, last))


def _event(source: str, key: str, day: date, a: str, b: str, action: str, notes: str) -> dict:
    return {
        "source": source, "source_event_id": key, "occurred_on": day.isoformat(),
        "actor1": {"name": a, "country": a, "kind": "state"}, "actor2": {"name": b, "country": b, "kind": "state"},
        "location": {"country": b}, "action": action, "notes": notes,
    }


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as f:  # ICB's first column has a BOM
        return list(csv.DictReader(f))


def _icb_pairs(data_dir: Path, skipped: Counter[str], path: str = ICB_ACTORS) -> Iterator[tuple[dict, str, str]]:
    for row in _rows(data_dir / path):
        trig, actor = _int(row["trigent"]), _int(row["cracid"])
        a, b = (cow_to_iso3(trig) if trig else None), (cow_to_iso3(actor) if actor else None)
        if a is None or b is None or a == b:
            skipped["icb_no_state_trigger"] += 1  # non-state or multiple triggering entities (996/997)
            continue
        yield row, a, b


def icb_events(data_dir: Path, skipped: Counter[str], path: str = ICB_ACTORS) -> Iterator[dict]:
    """Trigger acts and agreed terminations of ICB crises between two states."""
    for row, a, b in _icb_pairs(data_dir, skipped, path):
        key = f"{row['crisno']}-{row['cracno']}"
        start = _day(_int(row["yrtrig"]), _int(row["motrig"]), _int(row["datrig"]))
        action = TRIGGER_ACTION.get(_int(row["triggr"]) or 0)
        if start and action:
            yield _event("icb", f"{key}-trigger", start, a, b, action, f"ICB crisis {row['crisno']} trigger")
        end = _day(_int(row["yrterm"]), _int(row["moterm"]), _int(row["daterm"]))
        if end and (_int(row["outfor"]) or 0) in AGREEMENT_FORMS:
            yield _event("icb", f"{key}-end", end, a, b, "agreement", f"ICB crisis {row['crisno']} ends by agreement")


def icb_triggers(data_dir: Path, path: str = ICB_ACTORS) -> list[tuple[str, str, date]]:
    """(triggering state, crisis actor, trigger date) of every ICB crisis between two states."""
    out = []
    for row, a, b in _icb_pairs(data_dir, Counter(), path):
        start = _day(_int(row["yrtrig"]), _int(row["motrig"]), _int(row["datrig"]))
        if start:
            out.append((a, b, start))
    return out


def mid_settlements(data_dir: Path, skipped: Counter[str]) -> Iterator[dict]:
    """An agreement between the two sides of every MID settled by negotiation or imposition."""
    sides: dict[str, tuple[set[str], set[str]]] = {}
    for row in _rows(data_dir / MID_PARTICIPANTS):
        iso = cow_to_iso3(int(row["ccode"]))
        if iso:
            sides.setdefault(row["dispnum"], (set(), set()))[0 if row["sidea"] == "1" else 1].add(iso)
    for row in _rows(data_dir / MID_DISPUTES):
        if _int(row["settle"]) not in SETTLED:
            continue
        end = _day(_int(row["endyear"]), _int(row["endmon"]), _int(row["endday"]))
        side_a, side_b = sides.get(row["dispnum"], (set(), set()))
        if end is None or not side_a or not side_b:
            skipped["mid_no_date_or_sides"] += 1
            continue
        for a in sorted(side_a):
            for b in sorted(side_b - {a}):
                yield _event("mid5", f"{row['dispnum']}-{a}-{b}", end, a, b, "agreement",
                             f"MID {row['dispnum']} settled ({'negotiated' if row['settle'] == '1' else 'imposed'})")
