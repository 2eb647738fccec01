"""CSV rows through a converter that returns an event dict or the reason a row was left out."""

import csv
import gzip
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from app.importers.registry import FormatError, Skipped, checked, events_only

MALFORMED = "malformed row"  # a value the converter cannot read (a number that is not one, a missing field)


def open_text(path: Path):
    """A CSV file as text (gzipped if it ends in .gz: the global GED file ships that way)."""
    opener = gzip.open if path.suffix == ".gz" else open
    return opener(path, "rt", newline="", encoding="utf-8-sig")


def _converted(path: Path, convert: Callable[[dict], dict | str], ident: Callable[[dict], str]
               ) -> Iterator[tuple[str, dict | str]]:
    """(where, the converter's dict or reason) per CSV row. A file that stops being readable text part-way (bad
    bytes, a broken quote) raises FormatError naming the line."""
    with open_text(path) as f:
        reader = csv.DictReader(f)
        try:
            for row in reader:
                where = f"line {reader.line_num} ({ident(row)})"
                try:
                    yield where, convert(row)
                except (KeyError, ValueError, TypeError, IndexError) as exc:
                    yield where, f"{MALFORMED}: {exc!r}"
        except (UnicodeDecodeError, csv.Error) as exc:
            raise FormatError(f"{path.name} is unreadable after line {reader.line_num}: {exc}") from None


def iter_rows(path: Path, convert: Callable[[dict], dict | str], ident: Callable[[dict], str]) -> Iterator[dict | Skipped]:
    """Each CSV row's event, checked against the event contract as a posted one is (`registry.checked`), or a
    Skipped naming its line, its id (`ident`) and why."""
    for where, out in _converted(path, convert, ident):
        if isinstance(out, str):
            reason, _, detail = out.partition(": ")
            yield Skipped(reason, f"{where}: {detail}" if detail else where)
        else:
            yield checked(out, where)


def iter_converted(path: Path, convert: Callable[[dict], dict | str], ident: Callable[[dict], str],
                   skipped: Counter[str] | None = None) -> Iterator[dict]:
    """The converted events only, unchecked (training reads these, and its data are the converters' output); rows
    left out are counted in `skipped` by reason."""
    for _, out in _converted(path, convert, ident):
        if isinstance(out, str):
            if skipped is not None:
                skipped[out.partition(": ")[0]] += 1
        else:
            yield out


__all__ = ["MALFORMED", "events_only", "iter_converted", "iter_rows", "open_text"]
