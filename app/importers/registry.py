"""Import formats by name, how a file is recognised, and the result shape they share: events plus skipped rows
by reason.

An importer module exposes `iter_events(path)`, yielding contract dicts that validate with
`EventCreate`. Ours also expose `iter_rows(path)`, which yields a `Skipped` in place of each
row left out, so the caller can report why; for modules without it, the registry validates
what `iter_events` yields, counts the failures itself, and hands `iter_events` its
`skipped` counter when it takes one. Each declares how its files look: `COLUMNS`, the CSV header
names it needs, or `JSON_LINES`. `check` reads a file's first bytes before anything is imported and
refuses one that is not text or not the format named, saying which format it looks like instead.
"""

import csv
import importlib
import inspect
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from app.errors import field_path
from app.events.schemas import EventCreate


class FormatError(Exception):
    """The file is not the format named, not text, or stops being readable: one line that says so."""


class Valid(dict):
    """A contract dict that passed `EventCreate`, with the model it became (`event`): validated once."""

    __slots__ = ("event",)


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
        try:
            yield from self._counted()
        except (UnicodeDecodeError, csv.Error) as exc:  # the file stopped being readable text part-way
            raise FormatError(f"the file is unreadable after row {self.imported + sum(self.skipped.values())}: "
                              f"{exc}") from None

    def _counted(self) -> Iterator[dict]:
        for row in self._rows:
            if isinstance(row, Skipped):
                self.skipped[row.reason] += 1
                self.examples.setdefault(row.reason, row.detail)
                if len(self.rejected) < self.KEEP_REJECTED:
                    self.rejected.append(row)
            else:
                self.imported += 1
                yield row


def checked(event: dict, where: str) -> Valid | Skipped:
    """The event if it satisfies the contract (with its model), else a Skipped naming the failing field."""
    try:
        valid = Valid(event)
        valid.event = EventCreate.model_validate(event)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = field_path(first.get("loc", ()), first)
        return Skipped(f"invalid {field if field != 'body' else 'event'}", f"{where}: {first['msg']}")
    return valid


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


SNIFF_BYTES = 1 << 16  # read to recognise a file: its header, or its first JSON line


def _first_file(path: Path) -> Path:
    if not path.is_dir():
        return path
    files = sorted(path.glob("*.csv"))
    if not files:
        raise FormatError(f"{path} is a folder with no *.csv file in it")
    return files[0]


def _head(path: Path) -> str:
    """The file's first bytes as text, or FormatError for one that is empty, binary or not UTF-8."""
    import gzip

    file = _first_file(path)
    opener = gzip.open if file.suffix == ".gz" else open
    try:
        with opener(file, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except (OSError, EOFError) as exc:  # a .gz that is not gzip, an unreadable file
        raise FormatError(f"{file.name} cannot be read: {exc}") from None
    if not head.strip():
        raise FormatError(f"{file.name} is empty")
    if (nul := head.find(b"\0")) >= 0:
        raise FormatError(f"{file.name} is not text: it holds binary data (byte {nul} is NUL)")
    try:
        return head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a character cut by the read's end
            return head[:exc.start].decode("utf-8-sig")
        raise FormatError(f"{file.name} is not UTF-8 text (byte {exc.start}: {exc.reason})") from None


def _looks_like(head: str) -> tuple[set[str], str]:
    """The formats whose files look like `head`, and how it looks in a few words (for the message)."""
    import csv

    first = next((line for line in head.splitlines() if line.strip()), "")
    is_json = first.lstrip().startswith("{")  # an object per line (a broken one is the import's to report)
    columns = set() if is_json else {c.strip() for c in next(csv.reader([first]), [])}
    found = {name for name, module in _modules().items()
             if (is_json and getattr(module, "JSON_LINES", False))
             or (columns and set(getattr(module, "COLUMNS", ())) <= columns and hasattr(module, "COLUMNS"))}
    shown = sorted(columns)[:8]
    described = "JSON lines" if is_json else f"CSV with columns {', '.join(shown)}{', ...' if len(columns) > 8 else ''}"
    return found, described


def check(format_name: str, path: Path) -> None:
    """Raise FormatError unless `path` is readable text that looks like `format_name`: naming the format it looks
    like instead, or what the named format needs."""
    found, described = _looks_like(_head(path))
    if format_name in found:
        return
    module = _modules()[format_name]
    needs = "one JSON object per line" if getattr(module, "JSON_LINES", False) else \
        f"a CSV header with {', '.join(getattr(module, 'COLUMNS', ()))}"
    instead = f"; it looks like {' or '.join(sorted(found))} (escalation import {sorted(found)[0]} ...)" if found else ""
    raise FormatError(f"{_first_file(path).name} is not in the {format_name} format, which needs {needs}; this is "
                      f"{described}{instead}")


def _modules() -> dict:
    return {name: importlib.import_module(f"app.importers.{name}") for name in FORMATS}
