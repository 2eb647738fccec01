"""Militarized Interstate Events 1.0 rows -> `EventCreate`-shaped dicts (Gibler & Miller 2024).

`ccode1` acts on `ccode2`; the action code maps onto the canonical ladder (clashes, 17, and war
battles, 22, are non-directed there). MIE gives no location, so the event is placed on the
target's territory. An unknown start day (`stday` -9) becomes the last day of the month: the
first day on which the event is known to have happened, so features never see it early.
Fatalities are the sum of both sides' midpoints between `fatalminN` and `fatalmaxN`.
"""

import calendar
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from app.events.vocabulary import ACTION_BY_MID_CODE
from app.importers.crosswalk import cow_to_iso3
from app.importers import rows
from app.importers.registry import Skipped

SOURCE = "mie"
COLUMNS = ("micnum", "eventnum", "ccode1", "ccode2", "action", "styear", "stmon", "stday")  # how a file is known
UNKNOWN = -9


def _day(year: int, month: int, day: int) -> date:
    last = calendar.monthrange(year, month)[1]
    return date(year, month, last if day == UNKNOWN else min(day, last))


def _fatalities(row: dict[str, str]) -> int:
    def mid(lo: str, hi: str) -> float:
        return max(0.0, (float(lo) + float(hi)) / 2)

    return round(mid(row["fatalmin1"], row["fatalmax1"]) + mid(row["fatalmin2"], row["fatalmax2"]))


def _state(iso3: str) -> dict[str, str]:
    return {"name": iso3, "country": iso3, "kind": "state"}


def convert(row: dict[str, str]) -> dict | str:
    """One MIE row as an event dict, or the reason it is skipped."""
    a, b = cow_to_iso3(int(row["ccode1"])), cow_to_iso3(int(row["ccode2"]))
    if a is None or b is None:
        return "no_iso3"
    if a == b:
        return "same_iso3"  # e.g. two historical states that share a successor
    action = ACTION_BY_MID_CODE.get(int(row["action"]))
    if action is None:
        return "unknown_action"
    if int(row["stmon"]) == UNKNOWN:
        return "unknown_month"
    return {
        "source": SOURCE,
        "source_event_id": f"{row['micnum']}-{row['eventnum']}",
        "occurred_on": _day(int(row["styear"]), int(row["stmon"]), int(row["stday"])).isoformat(),
        "actor1": _state(a),
        "actor2": _state(b),
        "location": {"country": b},
        "action": action.name,
        "fatalities": _fatalities(row),
        "notes": f"MIE confrontation {row['micnum']}",
    }


def _ident(row: dict[str, str]) -> str:
    return f"{row.get('micnum')}-{row.get('eventnum')}"


def iter_rows(path: Path) -> Iterator[dict | Skipped]:
    """Each row's event, or a Skipped naming its line, its MIE id and why."""
    return rows.iter_rows(path, convert, _ident)


def iter_events(path: Path, skipped: Counter[str] | None = None) -> Iterator[dict]:
    """Event dicts from mie-1.0.csv; rows that cannot be converted are counted in `skipped` by reason."""
    return rows.iter_converted(path, convert, _ident, skipped)
