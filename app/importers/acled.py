"""ACLED CSV exports (the standard column layout) turned into event-contract dicts."""

import csv
import re
from collections.abc import Iterator
from datetime import date, datetime
from functools import cache
from pathlib import Path

import pycountry

from app.events import vocabulary
from app.importers.registry import Skipped, checked, events_only

SOURCE = "acled"
COLUMNS = ("event_id_cnty", "event_date", "event_type", "sub_event_type", "actor1", "country")  # how a file is known

# ACLED interaction codes; newer exports spell them out instead of numbering them.
_KIND_BY_INTER = {
    "1": "state", "state forces": "state",
    "2": "non_state", "rebel group": "non_state",
    "3": "non_state", "political militia": "non_state",
    "4": "non_state", "identity militia": "non_state",
    "5": "non_state", "rioters": "non_state",
    "6": "non_state", "protesters": "non_state",
    "7": "civilians", "civilians": "civilians",
    "8": "external", "external/other forces": "external",
}

# ACLED country spellings that pycountry's lookup does not know.
_COUNTRY_ALIASES = {
    "russia": "RUS", "turkey": "TUR", "democratic republic of congo": "COD",
    "republic of congo": "COG", "palestine": "PSE", "kosovo": "XKX", "ivory coast": "CIV",
    "cape verde": "CPV", "micronesia": "FSM", "brunei": "BRN", "east timor": "TLS",
    "united states": "USA", "united states of america": "USA", "vatican city": "VAT",
    "caribbean netherlands": "BES", "saint-martin": "MAF", "macedonia": "MKD",
}

# "Military Forces of Pakistan (2018-)", "Police Forces of the United States (2021-) ..."
_OF_COUNTRY = re.compile(r"\bof (?:the )?([^()]+?)\s*(?:\(|$)")

_NATIONALITY = re.compile(r"\(([^()]+)\)\s*$")


@cache
def country_from_name(name: str) -> str | None:
    """ISO3 of a country as ACLED spells it, or None."""
    key = name.strip().lower()
    if key in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[key]
    try:
        return pycountry.countries.lookup(key).alpha_3
    except LookupError:
        return None


def _state_country(actor_name: str) -> str | None:
    match = _OF_COUNTRY.search(actor_name)
    return country_from_name(match.group(1)) if match else None


def _location_country(row: dict[str, str]) -> str | None:
    # `iso` is ISO 3166-1 numeric; Kosovo has none (ACLED writes 0), so fall back to the name.
    iso = (row.get("iso") or "").strip()
    if iso.isdigit() and int(iso) > 0:
        found = pycountry.countries.get(numeric=f"{int(iso):03d}")
        if found:
            return found.alpha_3
    return country_from_name(row.get("country") or "")


def parse_date(text: str) -> date:
    """ACLED dates come as ISO (`2024-01-16`) or spelled out (`16 January 2024`)."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d %B %Y", "%d-%B-%Y", "%d %b %Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"unrecognised date {text!r}")


def _actor(name: str, inter: str, where: str) -> dict | None:
    name = name.strip()
    if not name:
        return None
    kind = _KIND_BY_INTER.get(inter.strip().lower(), "non_state")
    if kind == "civilians":
        # "Civilians (Afghanistan)": whose civilians, which can differ from where they were.
        nationality = _NATIONALITY.search(name)
        return {"name": name, "country": nationality and country_from_name(nationality.group(1)), "kind": kind}
    if kind == "external":
        # External forces are states only when ACLED names one ("Military Forces of Russia").
        country = _state_country(name)
        return {"name": name, "country": country, "kind": "state" if country else "non_state"}
    if kind == "state":
        return {"name": name, "country": _state_country(name) or where, "kind": kind}
    return {"name": name, "country": None, "kind": kind}


def _count(text: str) -> int | None:
    text = (text or "").strip()
    return int(float(text)) if text else None


def _float(text: str) -> float | None:
    text = (text or "").strip()
    return float(text) if text else None


def to_event(row: dict[str, str], where: str) -> dict | Skipped:
    """One ACLED row as a contract dict, or why it cannot be one."""
    event_type, sub_type = row.get("event_type", "").strip(), row.get("sub_event_type", "").strip()
    if vocabulary.action_from_acled(event_type, sub_type) is None:
        return Skipped("unknown event_type/sub_event_type", f"{where}: {event_type!r}/{sub_type!r}")
    country = _location_country(row)
    if country is None:
        return Skipped("unknown location country", f"{where}: iso={row.get('iso')!r} country={row.get('country')!r}")
    try:
        occurred_on = parse_date(row.get("event_date", ""))
    except ValueError as exc:
        return Skipped("bad event_date", f"{where}: {exc}")
    actor1 = _actor(row.get("actor1", ""), row.get("inter1", ""), country)
    if actor1 is None:
        return Skipped("no actor1", where)
    try:
        fatalities = _count(row.get("fatalities", ""))
    except ValueError:
        return Skipped("bad fatalities", f"{where}: {row.get('fatalities')!r}")
    # ACLED reports one fatality count; when civilians were the target, those dead are civilians.
    civilian = fatalities if (row.get("civilian_targeting") or "").strip() else None
    event = {
        "source": SOURCE,
        "source_event_id": row["event_id_cnty"].strip(),
        "occurred_on": occurred_on.isoformat(),
        "actor1": actor1,
        "actor2": _actor(row.get("actor2", ""), row.get("inter2", ""), country),
        "location": {
            "country": country,
            "admin1": (row.get("admin1") or "").strip() or None,
            "latitude": _float(row.get("latitude", "")),
            "longitude": _float(row.get("longitude", "")),
        },
        "event_type": event_type,
        "sub_event_type": sub_type,
        "fatalities": fatalities,
        "civilian_fatalities": civilian,
        "notes": (row.get("notes") or "").strip()[:4000] or None,
    }
    return checked(event, where)


def iter_rows(path: Path) -> Iterator[dict | Skipped]:
    """Each row's event, or a Skipped naming its line, id and what is wrong with it."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            line = reader.line_num  # the row's last physical line, so quoted newlines still point right
            if not (row.get("event_id_cnty") or "").strip():
                yield Skipped("no event_id_cnty", f"row at line {line}")
                continue
            where = f"line {line} ({row['event_id_cnty'].strip()})"
            try:
                yield to_event(row, where)
            except ValueError as exc:  # e.g. a latitude that is not a number
                yield Skipped("malformed row", f"{where}: {exc}")


def iter_events(path: Path) -> Iterator[dict]:
    return events_only(iter_rows(path))
