"""The JSON-lines importer: the event contract one object per line, errors by line number."""

import json
import sys
import types
from collections import Counter
from pathlib import Path

import pytest

from app.events.schemas import EventCreate
from app.importers import registry

EVENT = {
    "source_event_id": "e-1",
    "occurred_on": "2024-01-18",
    "actor1": {"name": "Pakistan", "country": "PAK", "kind": "state"},
    "actor2": {"name": "Iran", "country": "IRN", "kind": "state"},
    "location": {"country": "IRN"},
    "action": "attack",
    "fatalities": 9,
}


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_valid_lines_import_and_keep_an_explicit_source(tmp_path):
    other = {**EVENT, "source_event_id": "x-9", "source": "acled"}
    loaded = registry.load("jsonl", _write(tmp_path, [json.dumps(EVENT), "", json.dumps(other)]))
    events = list(loaded)
    assert [e["source"] for e in events] == ["jsonl", "acled"]
    assert all(EventCreate.model_validate(e) for e in events)
    assert loaded.imported == 2 and not loaded.skipped


def test_bad_lines_are_skipped_with_their_line_numbers(tmp_path):
    lines = [
        json.dumps(EVENT),
        "{not json",
        "[1, 2]",
        json.dumps({**EVENT, "source_event_id": "e-2", "location": {"country": "ZZZ"}}),
        json.dumps({**EVENT, "source_event_id": "e-3", "actor2": None}),
        json.dumps(EVENT),
    ]
    loaded = registry.load("jsonl", _write(tmp_path, lines))
    assert [e["source_event_id"] for e in loaded] == ["e-1"]
    assert loaded.skipped == {
        "invalid JSON": 1,
        "not a JSON object": 1,
        "invalid location.country": 1,
        "invalid actor2": 1,
        "duplicate source_event_id": 1,
    }
    assert loaded.examples["invalid JSON"].startswith("line 2:")
    assert loaded.examples["not a JSON object"].startswith("line 3:")
    assert "ZZZ" in loaded.examples["invalid location.country"]
    assert loaded.examples["invalid location.country"].startswith("line 4:")
    assert loaded.examples["duplicate source_event_id"].startswith("line 6:")


def test_unknown_format_names_the_known_ones(tmp_path):
    with pytest.raises(KeyError, match="acled.*ucdp_ged"):
        registry.load("csv", tmp_path / "x")


def test_registry_validates_importers_that_only_yield_events(monkeypatch, tmp_path):
    # mie and ucdp_ged expose iter_events(path, skipped=...) only; the registry checks what they yield.
    def iter_events(path: Path, skipped: Counter[str] | None = None):
        skipped["no_iso3"] += 1
        yield EVENT
        yield {**EVENT, "source_event_id": "e-2", "actor2": None}

    fake = types.ModuleType("app.importers.fake")
    fake.iter_events = iter_events
    monkeypatch.setitem(sys.modules, "app.importers.fake", fake)
    loaded = registry._lazy("app.importers.fake")(tmp_path / "x")
    assert [e["source_event_id"] for e in loaded] == ["e-1"]
    assert loaded.skipped == {"no_iso3": 1, "invalid actor2": 1}
