"""Import formats by name, and the result shape they share: events plus skipped rows by reason.

An importer module exposes `iter_events(path)`, yielding contract dicts that validate with
`EventCreate`. Ours also expose `iter_rows(path)`, which yields a `Skipped` in place of each
row left out, so the caller can report why; for modules without it, the registry validates
what `iter_events` yields, counts the failures itself, and hands `iter_events` its
`skipped` counter when it takes one (as `mie` and `ucdp_ged` do).
"""

import importlib
import inspect
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from app.errors import field_path
from app.events.schemas import EventCreate


@dataclass(frozen=True, slots=True)
class Skipped:
    """A source row left out: a short reason to count by, and where/why in detail."""

    reason: str
    detail: str


class ImportResult:
    """The events of one file; `imported`, `skipped` and `examples` fill in as it is iterated."""

    KEEP_REJECTED = 50  # `rejected` keeps the first rows left out, for `escalation import --dry-run`

    def __init__(self, rows: Iterable[dict | Skipped], skipped: Counter[str] | None = None):
        self._rows = rows
        self.imported = 0
        self.skipped: Counter[str] = Counter() if skipped is None else skipped
        self.examples: dict[str, str] = {}  # reason -> first detail, enough to find the row
        self.rejected: list[Skipped] = []

    def __iter__(self) -> Iterator[dict]:
        for row in self._rows:
            if isinstance(row, Skipped):
                self.skipped[row.reason] += 1
                self.examples.setdefault(row.reason, row.detail)
                if len(self.rejected) < self.KEEP_REJECTED:
                    self.rejected.append(row)
            else:
                self.imported += 1
                yield row


def checked(event: dict, where: str) -> dict | Skipped:
    """The event if it satisfies the contract, else a Skipped naming the failing field."""
    try:
        EventCreate.model_validate(event)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = field_path(first.get("loc", ()), first)
        return Skipped(f"invalid {field if field != 'body' else 'event'}", f"{where}: {first['msg']}")
    return event


def events_only(rows: Iterable[dict | Skipped]) -> Iterator[dict]:
    return (row for row in rows if not isinstance(row, Skipped))


def _validated(events: Iterable[dict]) -> Iterator[dict | Skipped]:
    for n, event in enumerate(events, start=1):
        yield checked(event, f"event {n} ({event.get('source_event_id', '?')})")


def _lazy(module_name: str) -> Callable[[Path], ImportResult]:
    # Importing on first use keeps one broken or slow importer from breaking the others.
    def load(path: Path) -> ImportResult:
        module = importlib.import_module(module_name)
        if hasattr(module, "iter_rows"):
            return ImportResult(module.iter_rows(Path(path)))
        skipped: Counter[str] = Counter()
        takes_counter = "skipped" in inspect.signature(module.iter_events).parameters
        events = module.iter_events(Path(path), skipped=skipped) if takes_counter else module.iter_events(Path(path))
        return ImportResult(_validated(events), skipped)

    return load


FORMATS: dict[str, Callable[[Path], ImportResult]] = {
    name: _lazy(f"app.importers.{name}") for name in ("acled", "gdelt", "jsonl", "mie", "ucdp_ged")
}


def load(format_name: str, path: Path) -> ImportResult:
    """Open `path` with the named importer; KeyError lists the known formats."""
    if format_name not in FORMATS:
        raise KeyError(f"unknown import format {format_name!r}; known: {sorted(FORMATS)}")
    return FORMATS[format_name](path)
