"""Event precision and recall of POST /v1/extract's rules over the report set in tests/extract/reports/, per-field
accuracy on the matched events, and the seed report's drafts.

    .venv/bin/python bench/bench_extract.py [--show-misses]

An event matches when date, actor1's state, actor2 (its state, or "group" for a non-state actor), the location's
state and the action agree (a clash matches with its two sides either way round). `dev/` is the set the rules were
written against; `held_out/` was written after the rules were frozen."""

import json
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.extract import service

REPORTS = ROOT / "tests" / "extract" / "reports"
SEED = ROOT.parent / "shared" / "seed" / "2024-01-pakistan-iran-strikes.txt"  # shared/ beside the repository
FIELDS = ("fatalities", "civilian_fatalities", "weapons", "retaliation")


def drafted(event) -> dict:
    a2 = event.actor2
    return {"date": event.occurred_on.isoformat(), "actor1": event.actor1.country,
            "actor2": None if a2 is None else (a2.country if a2.kind == "state" else "group"),
            "location": event.location.country, "action": event.action, "fatalities": event.fatalities,
            "civilian_fatalities": event.civilian_fatalities, "weapons": sorted(event.weapons),
            "retaliation": event.retaliation}


def same_event(want: dict, got: dict) -> bool:
    if (want["date"], want["location"], want["action"]) != (got["date"], got["location"], got["action"]):
        return False
    pair, other = (want["actor1"], want["actor2"]), (got["actor1"], got["actor2"])
    return pair == other or (want["action"] == "clash" and pair == other[::-1])


def score(folder: Path) -> dict:
    expected = found = matched = 0
    right = dict.fromkeys(FIELDS, 0)
    misses = []
    for path in sorted(folder.glob("*.json")):
        report = json.loads(path.read_text())
        result = service.extract(report["text"], date.fromisoformat(report["published_on"]))
        got = [drafted(e) for e in result.events]
        expected, found = expected + len(report["expected"]), found + len(got)
        free = list(got)
        for want in report["expected"]:
            hit = next((g for g in free if same_event(want, g)), None)
            if hit is None:
                misses.append(f"{path.stem}: missed {want}")
                continue
            free.remove(hit)
            matched += 1
            for f in FIELDS:
                if want.get(f) == hit[f]:
                    right[f] += 1
                else:
                    misses.append(f"{path.stem}: {f} {hit[f]!r}, expected {want.get(f)!r}")
        misses.extend(f"{path.stem}: extra {g}" for g in free)
    return {"reports": len(list(folder.glob("*.json"))), "expected": expected, "drafted": found, "matched": matched,
            "precision": matched / found if found else 0.0, "recall": matched / expected if expected else 0.0,
            "fields": {f: right[f] / matched if matched else 0.0 for f in FIELDS}, "misses": misses}


def main(argv: list[str]) -> None:
    for name in ("dev", "held_out"):
        folder = REPORTS / name
        if not any(folder.glob("*.json")):
            continue
        s = score(folder)
        print(f"{name}: {s['reports']} reports, {s['expected']} expected events, {s['drafted']} drafted, "
              f"{s['matched']} matched")
        print(f"  event precision {s['precision']:.2f}  recall {s['recall']:.2f}")
        print("  on matched events: " + "  ".join(f"{f} {v:.2f}" for f, v in s["fields"].items()))
        if "--show-misses" in argv:
            for m in s["misses"]:
                print("   -", m)
    if SEED.exists():
        result = service.extract(SEED.read_text(encoding="utf-8"), date(2024, 1, 18))
        print(f"seed report ({SEED.name}, published 2024-01-18): {len(result.events)} events, "
              f"{len(result.unresolved)} unresolved")
        for e in result.events:
            d = drafted(e)
            print(f"  {d['date']} {d['actor1']} -> {e.actor2.name if e.actor2 else '-'} in {d['location']}"
                  f"{' (' + e.location.admin1 + ')' if e.location.admin1 else ''}: {d['action']}, fatalities "
                  f"{d['fatalities']}, civilian {d['civilian_fatalities']}, weapons {d['weapons']}, retaliation "
                  f"{d['retaliation']}{', responds to ' + e.responds_to if e.responds_to else ''}")


if __name__ == "__main__":
    main(sys.argv[1:])
