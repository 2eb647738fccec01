"""Dates as reports write them, resolved against the day the report was published.

Our own small parser (stdlib only): explicit dates ("16 January 2024", "January 16", "Jan. 16, 2024"), weekdays
("Tuesday", "on Tuesday", "Tuesday's") as the latest such day on or before publication, "today", "yesterday",
"last night" (the day before). "Overnight" alone is not a date."""

import re
from datetime import date, timedelta

MONTHS = {m: n for n, names in enumerate(
    [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
     ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
     ("december", "dec")], start=1) for m in names}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTH = r"(?P<month>January|February|March|April|May|June|July|August|September|October|November|December|" \
         r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
_PATTERNS = [
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)? (?:of )?{_MONTH}(?:,? (?P<year>\d{{4}}))?\b"),
    re.compile(rf"\b{_MONTH} (?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?:,? (?P<year>\d{{4}}))?\b"),
    re.compile(r"\b(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)(?:['’]s)?\b"),
    re.compile(r"\b(?P<relative>today|yesterday|last night|earlier today|this morning)\b", re.IGNORECASE),
]


def _explicit(m: re.Match, published_on: date) -> date | None:
    month, day = MONTHS[m.group("month").lower()], int(m.group("day"))
    year = int(m.group("year")) if m.group("year") else published_on.year
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    if not m.group("year") and found > published_on:  # "December 30" in a report of January 2
        try:
            found = found.replace(year=year - 1)
        except ValueError:  # "February 29" of a year before a leap year, or before year 1: no such day
            return None
    return found


def _before(published_on: date, days: int) -> date | None:
    """`days` before publication, or None before year 1."""
    try:
        return published_on - timedelta(days=days)
    except OverflowError:
        return None


def find(text: str, published_on: date) -> list[tuple[int, int, date]]:
    """Every date named in `text`: (start, end, date), in text order; none after publication."""
    out = []
    covered = bytearray(len(text) + 1)  # positions inside a date already found: linear, not a scan of `out`
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            groups = m.groupdict()
            if groups.get("month"):
                day = _explicit(m, published_on)
            elif groups.get("weekday"):
                back = (published_on.weekday() - WEEKDAYS.index(m.group("weekday").lower())) % 7
                day = _before(published_on, back)
            else:
                word = m.group("relative").lower()
                day = _before(published_on, 0 if "today" in word or "morning" in word else 1)
            if day is not None and day <= published_on and not covered[m.start()]:
                out.append((m.start(), m.end(), day))
                covered[m.start():m.end()] = b"\x01" * (m.end() - m.start())
    return sorted(out)
