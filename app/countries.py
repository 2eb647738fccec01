"""ISO 3166-1 alpha-3 country codes accepted by the event contract."""

import pycountry

# Kosovo has no ISO code; XKX is the user-assigned code used by the EU and UN agencies.
ISO3: frozenset[str] = frozenset(c.alpha_3 for c in pycountry.countries) | {"XKX"}


def is_iso3(code: str) -> bool:
    return code in ISO3

# For the OpenAPI document: the codes a client may send (lower case is accepted too, and surrounding spaces).
CODES: list[str] = sorted(ISO3)
ALTERNATION = "(?:" + "|".join(CODES) + ")"
