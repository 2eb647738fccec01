"""The map's country outlines: the vendored world-atlas topology (vendor/world-atlas, ISC, from Natural Earth)
with each geometry keyed by ISO3, as the rest of the service names countries."""

import json
from functools import cache
from pathlib import Path

import pycountry

TOPOLOGY = Path(__file__).parent / "vendor" / "world-atlas" / "countries-110m.json"
# Outlines without an ISO 3166 numeric code: Kosovo has the code the event contract uses; the other two are drawn
# as part of no country (the contract has no code for them).
UNCODED = {"Kosovo": "XKX"}


@cache
def world() -> bytes:
    """The topology as served: `id` an ISO3 code (or null), `properties.name` as in the file."""
    topology = json.loads(TOPOLOGY.read_text(encoding="utf-8"))
    for g in topology["objects"]["countries"]["geometries"]:
        country = pycountry.countries.get(numeric=g["id"]) if g.get("id") else None
        g["id"] = country.alpha_3 if country else UNCODED.get(g["properties"]["name"])
    return json.dumps(topology, separators=(",", ":")).encode()
