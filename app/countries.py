"""ISO 3166-1 alpha-3 country codes accepted by the event contract."""

import pycountry

# Kosovo has no ISO code; XKX is the user-assigned code used by the EU and UN agencies.
ISO3: frozenset[str] = frozenset(c.alpha_3 for c in pycountry.countries) | {"XKX"}


def is_iso3(code: str) -> bool:
    return code in ISO3

# For the OpenAPI document: the codes a client may send (lower case is accepted too, and surrounding spaces).
CODES: list[str] = sorted(ISO3)
ALTERNATION = "(?:" + "|".join(CODES) + ")"

# Where ISO 3166's short name is not the one a reader knows (pycountry gives a common name for some others).
_READABLE = {"RUS": "Russia", "COD": "DR Congo", "COG": "Congo", "VNM": "Vietnam", "PSE": "Palestine", "XKX": "Kosovo",
             "GBR": "United Kingdom", "BRN": "Brunei", "CPV": "Cabo Verde", "SWZ": "Eswatini", "TUR": "Türkiye"}


def name(code: str) -> str:
    """A country's name as a reader knows it ("Iran", not "Iran, Islamic Republic of"); the code if unknown."""
    if code in _READABLE:
        return _READABLE[code]
    country = pycountry.countries.get(alpha_3=code)
    return code if country is None else getattr(country, "common_name", None) or country.name
