"""JSON lines of the event contract itself: one object per line, blank lines ignored."""

import json
from collections.abc import Iterator
from pathlib import Path

from app.importers.registry import Skipped, checked, events_only

SOURCE = "jsonl"
JSON_LINES = True  # how a file is known: its first line is a JSON object


def iter_rows(path: Path) -> Iterator[dict | Skipped]:
    """Each line's event, or a Skipped that names the line and what is wrong with it."""
    seen: set[tuple[str, str]] = set()
    with open(path, encoding="utf-8-sig") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"line {line_no}"
            try:
                event = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Skipped("invalid JSON", f"{where}: {exc.msg} at column {exc.colno}")
                continue
            if not isinstance(event, dict):
                yield Skipped("not a JSON object", f"{where}: got {type(event).__name__}")
                continue
            # Records exported from another source keep it, so re-importing them stays idempotent.
            event.setdefault("source", SOURCE)
            result = checked(event, where)
            if isinstance(result, dict):
                key = (result["source"], result["source_event_id"])
                if key in seen:
                    result = Skipped("duplicate source_event_id", f"{where}: {key[1]!r}")
                seen.add(key)
            yield result


def iter_events(path: Path) -> Iterator[dict]:
    return events_only(iter_rows(path))
