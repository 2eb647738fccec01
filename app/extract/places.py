"""Where a report names states: country names from pycountry, demonyms and metonyms (our table), first-level
subdivisions from pycountry, and the armed groups the rules know. Each finder returns (start, end, value)."""

import re
import unicodedata
from functools import lru_cache

import pycountry

from app import countries

# Names a reader uses that ISO's short, official and common names do not give.
_ALIASES = {
    "USA": ["United States", "U.S.", "US", "America", "Washington", "Pentagon"],
    "GBR": ["Britain", "UK", "U.K.", "London"], "RUS": ["Russia", "Moscow", "Kremlin"], "IRN": ["Iran", "Tehran"],
    "SYR": ["Syria", "Damascus"], "KOR": ["South Korea", "Seoul"], "PRK": ["North Korea", "Pyongyang"],
    "TUR": ["Turkey", "Türkiye", "Turkiye", "Ankara"], "PSE": ["Palestine", "Gaza", "West Bank"],
    "TWN": ["Taiwan", "Taipei"], "VNM": ["Vietnam"], "ISR": ["Israel", "Jerusalem"], "UKR": ["Ukraine", "Kyiv", "Kiev"],
    "CHN": ["China", "Beijing"], "IND": ["India", "New Delhi"], "PAK": ["Pakistan", "Islamabad"],
    "AZE": ["Azerbaijan", "Baku"], "ARM": ["Armenia", "Yerevan"], "IRQ": ["Iraq", "Baghdad"],
    "LBN": ["Lebanon", "Beirut"], "YEM": ["Yemen"], "AFG": ["Afghanistan", "Kabul"], "SAU": ["Saudi Arabia", "Riyadh"],
    "COD": ["DR Congo", "Congo-Kinshasa"], "VEN": ["Venezuela"], "BOL": ["Bolivia"], "MDA": ["Moldova"],
    "LAO": ["Laos"], "TZA": ["Tanzania"], "CZE": ["Czech Republic"], "THA": ["Thailand", "Bangkok"],
    "KHM": ["Cambodia", "Phnom Penh"], "ETH": ["Ethiopia"], "ERI": ["Eritrea"], "SDN": ["Sudan"],
    "SSD": ["South Sudan"], "GEO": ["Georgia", "Tbilisi"], "KGZ": ["Kyrgyzstan"], "TJK": ["Tajikistan"],
    "JOR": ["Jordan"], "EGY": ["Egypt"], "LBY": ["Libya"], "QAT": ["Qatar"], "JPN": ["Japan", "Tokyo"],
    "PHL": ["Philippines", "Manila"],
}
# Demonyms and state organs (our table: no maintained package on PyPI maps demonyms to ISO codes offline; see
# docs/extract.md). Adjectives of the countries the dev reports and the seed need, and their neighbours;
# none added for the held-out reports (docs/extract.md).
_DEMONYMS = {
    "USA": ["American", "Americans", "US-led", "U.S.-led", "CENTCOM"], "GBR": ["British"],
    "RUS": ["Russian", "Russians"], "IRN": ["Iranian", "Iranians", "Revolutionary Guard", "Revolutionary Guards",
                                            "Islamic Revolutionary Guard Corps", "IRGC"],
    "SYR": ["Syrian"], "ISR": ["Israeli", "Israelis", "IDF", "Israel Defense Forces"], "UKR": ["Ukrainian", "Ukrainians"],
    "CHN": ["Chinese", "PLA", "People's Liberation Army"], "IND": ["Indian", "Indians"],
    "PAK": ["Pakistani", "Pakistanis"], "AZE": ["Azerbaijani", "Azeri", "Azerbaijanis"],
    "ARM": ["Armenian", "Armenians"], "IRQ": ["Iraqi"], "TUR": ["Turkish", "Turks"], "LBN": ["Lebanese"],
    "YEM": ["Yemeni"], "AFG": ["Afghan", "Taliban"], "SAU": ["Saudi", "Saudi-led"], "KOR": ["South Korean"],
    "PRK": ["North Korean"], "TWN": ["Taiwanese"], "JPN": ["Japanese"], "PHL": ["Philippine", "Filipino"],
    "VNM": ["Vietnamese"], "ETH": ["Ethiopian"], "ERI": ["Eritrean"],
    "SDN": ["Sudanese"], "GEO": ["Georgian"], "KGZ": ["Kyrgyz"], "TJK": ["Tajik"], "JOR": ["Jordanian"],
    "EGY": ["Egyptian"], "KAZ": ["Kazakh"], "BLR": ["Belarusian"], "FRA": ["French"],
    "DEU": ["German"], "QAT": ["Qatari"],
}
# Places below the first level, and first-level names spelled as the press spells them, not as ISO 3166-2 does.
_PLACES = {
    "Balakot": ("PAK", "Khyber Pakhtunkhwa"), "Pakistan-administered Kashmir": ("PAK", "Azad Jammu and Kashmir"),
    "Indian-administered Kashmir": ("IND", None), "Kerch Strait": ("UKR", None), "Crimea": ("UKR", None), "Sistan and Baluchistan": ("IRN", "Sīstān va Balūchestān"),
    "Sistan-Baluchestan": ("IRN", "Sīstān va Balūchestān"), "Kurdistan region": ("IRQ", "Iqlīm Kūrdistān"),
    "Kurdistan Region": ("IRQ", "Iqlīm Kūrdistān"), "Erbil": ("IRQ", "Arbīl"), "Ain al-Asad": ("IRQ", "Al Anbār"),
    "Isfahan": ("IRN", "Eşfahān"), "Galwan": ("IND", "Ladakh"), "Ladakh": ("IND", "Ladakh"),
    "Nagorno-Karabakh": ("AZE", None), "Jermuk": ("ARM", None), "Kherson": ("UKR", "Khersonska oblast"),
    "Belgorod": ("RUS", "Belgorodskaya oblast'"), "Kharkiv": ("UKR", "Kharkivska oblast"),
    "Deir ez-Zor": ("SYR", "Dayr az Zawr"), "Deir al-Zour": ("SYR", "Dayr az Zawr"), "Duhok": ("IRQ", "Dahūk"),
"Golan Heights": ("SYR", None), "Damascus": ("SYR", "Dimashq"),
    "Panjshir": ("AFG", None), "Paktika": ("AFG", "Paktīkā"), "Khost": ("AFG", "Khōst"),
    "Kermanshah": ("IRN", "Kermānshāh"), "Kerman": ("IRN", "Kermān"), "Kursk": ("RUS", "Kurskaya oblast'"),
}
# Armed groups named in reports: (pattern, canonical name).
GROUPS = [
    (r"Jaish al-Adl", "Jaish al-Adl"), (r"Baluchistan Liberation (?:Army|Front)", "Baluchistan Liberation Army"),
    (r"Jaish-e-Mohammed|Jaish-e-Muhammad", "Jaish-e-Mohammed"), (r"Hezbollah", "Hezbollah"), (r"Hamas", "Hamas"),
    (r"Houthis?", "Houthis"), (r"Islamic State|ISIS|ISIL", "Islamic State"), (r"PKK|Kurdistan Workers' Party", "PKK"),
    (r"Kataib Hezbollah|Kata'ib Hezbollah", "Kataib Hezbollah"), (r"YPG", "YPG"), (r"Wagner", "Wagner Group"),
    (r"al-Shabaab", "al-Shabaab"), (r"Mossad", None),
]
# "the Hafiz Gul Bahadur group": a named group the list does not know.
NAMED_GROUP = re.compile(r"\b(?:[A-Z][\w'-]+ ){1,4}(?:group|faction|brigades?|battalion|movement)\b")
GENERIC_GROUP = re.compile(r"\b(?:militants?|militias?|insurgents?|terrorists?|separatists?|fighters|rebels)\b")


def fold(text: str) -> str:
    """Lower case, accents stripped: how names are compared."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=1)
def _country_pattern() -> tuple[re.Pattern, dict[str, tuple[str, str]]]:
    names: dict[str, tuple[str, str]] = {}  # surface -> (code, "country" | "demonym")
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(c, attr, None)
            if value and "," not in value:
                names.setdefault(value, (c.alpha_3, "country"))
    for code, values in _ALIASES.items():
        for v in values:
            names[v] = (code, "country")
    for code, values in _DEMONYMS.items():
        for v in values:
            names[v] = (code, "demonym")
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    # Case-sensitive, whole words: "US" and "us", "Jordan" the river aside.
    return re.compile(rf"(?<![\w-])(?:{alternation})(?![\w-]|-backed)(?:['’]s)?"), names


def states(text: str) -> list[tuple[int, int, str, str]]:
    """Every state named: (start, end, ISO3, "country" | "demonym")."""
    pattern, names = _country_pattern()
    out = []
    for m in pattern.finditer(text):
        surface = re.sub(r"['’]s$", "", m.group())
        code, kind = names[surface]
        out.append((m.start(), m.end(), code, kind))
    return out


@lru_cache(maxsize=1)
def _place_pattern() -> re.Pattern:
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(p) for p in sorted(_PLACES, key=len, reverse=True)) + r")(?![\w])")


def places(text: str) -> list[tuple[int, int, str | None, str | None]]:
    """Places below the state: (start, end, ISO3 or None, ISO 3166-2 subdivision name or None)."""
    return [(m.start(), m.end(), *_PLACES[m.group()]) for m in _place_pattern().finditer(text)]


def subdivision(code: str, name: str) -> str | None:
    """The ISO 3166-2 name of `code`'s first-level subdivision spelled `name` (accents and case aside)."""
    country = pycountry.countries.get(alpha_3=code)
    if country is None:
        return None
    wanted = fold(name)
    for s in pycountry.subdivisions.get(country_code=country.alpha_2) or []:
        if s.parent_code is None and fold(s.name) == wanted:
            return s.name
    return None


def groups(text: str) -> list[tuple[int, int, str | None]]:
    out = []
    for pattern, canonical in GROUPS:
        out.extend((m.start(), m.end(), canonical) for m in re.finditer(rf"\b(?:{pattern})\b", text))
    for m in NAMED_GROUP.finditer(text):
        name = re.sub(r"^(?:The|the)\s+", "", m.group())
        if not any(a <= m.start() < b or m.start() <= a < m.end() for a, b, _ in out) and \
                not _country_pattern()[0].match(name):
            out.append((m.start(), m.end(), re.sub(r"\s+(?:group|faction)$", "", name)))
    return sorted(out)


def readable(code: str) -> str:
    return countries.name(code)
