"""UCDP GED rows -> `EventCreate`-shaped dicts (Sundberg & Melander 2013; CC BY 4.0).

Reads the layouts in ../shared/data: the slices' netify_* / uncertainUCDP_* (with `gwnoa`, `gwnob`)
and data4ds4da_* (GED 19.1, no `gwnoa`: the government is found from its name), and the reduced
global 21.1 file (`year`/`month`/`day`, `best_death`, the country and type of violence as text).
type_of_violence 1 (state-based) and 2 (non-state) become non-directed `clash`es; 3 (one-sided)
becomes an `attack` by side_a on civilians of the event's country. Fatalities are `best`,
civilian fatalities `deaths_civilians` (the reduced file has none: one-sided violence counts all its deaths
as civilian, the rest none). Rows dated only to the year (date_prec 5) are skipped. Events are dated by
`date_end` where the layout has it (when their deaths are all known); the reduced file keeps only
`date_start`, so a multi-day event's deaths are dated at its first day there.
"""

from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from app.importers.crosswalk import government_iso3, gw_to_iso3
from app.importers import rows
from app.importers.registry import Skipped

SOURCE = "ucdp_ged"
COLUMNS = ("id", "type_of_violence", "side_a", "side_b")  # how a file is known (and best or best_death)
YEAR_ONLY = 5
VIOLENCE = {"State-based violence": 1, "Non-state violence": 2, "One-sided violence": 3}  # the reduced file's text


def _int(value: str | None) -> int | None:
    value = (value or "").split(",")[0].strip()
    try:
        return int(float(value))
    except ValueError:
        return None


def _actor(name: str, gw: str | None) -> dict | None:
    """A side as an actor; None for a government whose country cannot be resolved."""
    if not name.startswith("Government of "):
        return {"name": name[:200], "kind": "non_state"}
    code = _int(gw)
    iso3 = gw_to_iso3(code) if code is not None else government_iso3(name)
    return {"name": name[:200], "country": iso3, "kind": "state"} if iso3 else None


def _country(row: dict[str, str]) -> str | None:
    """The event's country: its Gleditsch-Ward code, or (reduced file) its UCDP name."""
    code = _int(row.get("country_id"))
    if code is not None:
        return gw_to_iso3(code)
    return government_iso3(f"Government of {row['country']}") if row.get("country") else None


def _day(row: dict[str, str]) -> str:
    """The day the event is dated by. Deaths are counted through date_end, so that is when the whole event is
    known; the reduced file keeps only date_start's year, month and day."""
    if row.get("date_start") or row.get("date_end"):
        return (row.get("date_end") or row["date_start"])[:10]
    return f"{int(row['year']):04d}-{int(row['month']):02d}-{int(row['day']):02d}"


def convert(row: dict[str, str]) -> dict | str:
    """One GED row as an event dict, or the reason it is skipped."""
    if _int(row.get("date_prec")) == YEAR_ONLY:
        return "date_year_only"
    try:
        date.fromisoformat(_day(row))
    except (ValueError, KeyError, TypeError):
        return "bad_date"
    where = _country(row)
    if where is None:
        return "no_iso3"
    violence = VIOLENCE.get(row["type_of_violence"]) or _int(row["type_of_violence"])
    if violence not in (1, 2, 3):
        return "unknown_type_of_violence"
    actor1 = _actor(row["side_a"], row.get("gwnoa"))
    if violence == 3:
        actor2 = {"name": "Civilians", "country": where, "kind": "civilians"}
    else:
        actor2 = _actor(row["side_b"], row.get("gwnob"))
    if actor1 is None or actor2 is None:
        return "unknown_government"
    best = _int(row["best"] if "best" in row else row.get("best_death")) or 0
    return {
        "source": SOURCE,
        "source_event_id": str(_int(row["id"])),
        "occurred_on": _day(row),
        "actor1": actor1,
        "actor2": actor2,
        "location": {"country": where, "admin1": (row.get("adm_1") or None) and row["adm_1"][:200]},
        "action": "attack" if violence == 3 else "clash",
        "fatalities": best,
        # the reduced global file has no deaths_civilians: one-sided violence kills civilians only, by definition
        "civilian_fatalities": min(_int(row["deaths_civilians"]) or 0, best) if "deaths_civilians" in row
        else (best if violence == 3 else 0),
        "notes": row.get("dyad_name") or None,
    }


def _ident(row: dict[str, str]) -> str:
    return f"id {_int(row.get('id'))}"


def iter_rows(path: Path) -> Iterator[dict | Skipped]:
    """Each row's event, or a Skipped naming its line, its GED id and why."""
    return rows.iter_rows(path, convert, _ident)


def iter_events(path: Path, skipped: Counter[str] | None = None) -> Iterator[dict]:
    """Event dicts from one GED csv; rows that cannot be converted are counted in `skipped` by reason."""
    return rows.iter_converted(path, convert, _ident, skipped)
