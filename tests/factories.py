"""Small event factories: the seed scenario and variations."""

from copy import deepcopy

IRAN_STRIKE = {
    "source": "seed",
    "source_event_id": "2024-01-16-irn-pak",
    "occurred_on": "2024-01-16",
    "actor1": {"name": "Iran (IRGC)", "country": "IRN", "kind": "state"},
    "actor2": {"name": "Jaish al-Adl", "kind": "non_state"},
    "location": {"country": "PAK", "admin1": "Balochistan"},
    "action": "attack",
    "weapons": ["missile", "drone"],
    "fatalities": 2,
    "civilian_fatalities": 2,
    "notes": "Iranian strikes on militants inside Pakistan; two children killed.",
}

PAKISTAN_RETALIATION = {
    "source": "seed",
    "source_event_id": "2024-01-18-pak-irn",
    "occurred_on": "2024-01-18",
    "actor1": {"name": "Pakistan Armed Forces", "country": "PAK", "kind": "state"},
    "actor2": {"name": "Baluchistan Liberation Army", "kind": "non_state"},
    "location": {"country": "IRN", "admin1": "Sistan and Baluchestan"},
    "action": "attack",
    "weapons": ["drone", "rocket", "loitering_munition", "standoff_weapon"],
    "fatalities": 9,
    "civilian_fatalities": 7,
    "retaliation": True,
    "notes": "Retaliatory strikes on militants in Iran; nine killed including women and children.",
}


def event(base: dict | None = None, **changes) -> dict:
    body = deepcopy(base or IRAN_STRIKE)
    body.update(changes)
    return body


# Iran's missile strike in Erbil (15 Jan 2024), between the states here: four killed. A front of Iran's other than
# Pakistan, the day before its strike there (contagion).
IRAQ = event(IRAN_STRIKE, source_event_id="2024-01-15-irn-irq", occurred_on="2024-01-15",
             actor2={"name": "Iraq", "country": "IRQ", "kind": "state"}, location={"country": "IRQ"},
             fatalities=4, civilian_fatalities=4, notes=None)


def many(n: int, *, source: str = "bench", start_year: int = 2010) -> list[dict]:
    """n distinct, valid events spread over a few dyads and dates."""
    pairs = [("IRN", "PAK"), ("IND", "PAK"), ("RUS", "UKR"), ("ISR", "LBN"), ("ARM", "AZE")]
    out = []
    for i in range(n):
        a, b = pairs[i % len(pairs)]
        out.append({
            "source": source, "source_event_id": f"{source}-{i}",
            "occurred_on": f"{start_year + (i // 365) % 10}-{1 + (i // 28) % 12:02d}-{1 + i % 28:02d}",
            "actor1": {"name": a, "country": a, "kind": "state"},
            "actor2": {"name": b, "country": b, "kind": "state"},
            "location": {"country": b}, "action": "attack" if i % 3 else "show_of_force",
            "fatalities": i % 7, "civilian_fatalities": min(i % 2, i % 7), "weapons": ["artillery"] if i % 4 == 0 else [],
        })
    return out
