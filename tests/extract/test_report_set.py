"""The report set behind bench/bench_extract.py: well formed, and the rules keep the issue's bar on it."""

import json
import sys
from pathlib import Path

from app.countries import is_iso3
from app.events import vocabulary

ROOT = Path(__file__).resolve().parents[2]
REPORTS = Path(__file__).parent / "reports"
sys.path.insert(0, str(ROOT / "bench"))

import bench_extract


def test_reports_are_well_formed():
    paths = sorted(REPORTS.glob("*/*.json"))
    assert len(list((REPORTS / "dev").glob("*.json"))) >= 15 and len(list((REPORTS / "held_out").glob("*.json"))) >= 5
    for path in paths:
        report = json.loads(path.read_text())
        assert 3 <= report["text"].count(". ") + 1 <= 8, path.name
        for want in report["expected"]:
            assert is_iso3(want["actor1"]) and is_iso3(want["location"]), path.name
            assert want["actor2"] in ("group", "civilians") or is_iso3(want["actor2"]), path.name
            assert want["action"] in vocabulary.ACTIONS and set(want["weapons"]) <= vocabulary.WEAPONS, path.name


def test_the_rules_keep_the_bar_on_the_development_set():
    score = bench_extract.score(REPORTS / "dev")
    assert score["precision"] >= 0.8 and score["recall"] >= 0.8
    assert score["fields"]["fatalities"] >= 0.7
