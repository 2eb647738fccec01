"""GDELT 2.0 event rows (the renamed-column layout of the shared sample) as event-contract dicts.

Actor countries are CAMEO country codes, mostly ISO3 (regions such as AFR or SEA are not);
the action geography's `Country` is FIPS 10-4, mapped to ISO3 below.
"""

import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pycountry

from app.events import vocabulary
from app.countries import is_iso3
from app.importers.registry import Skipped, checked, events_only

SOURCE = "gdelt"
COLUMNS = ("Global_Event_ID", "Day", "Event_Code", "Actor_1_Name", "Actor_2_Name", "Country")  # how a file is known

# FIPS 10-4 codes that differ from (or collide with) the ISO 3166-1 alpha-2 code of the same
# country; any other FIPS code is read as ISO alpha-2. Checked against the place names of
# the shared sample (tests/importers/test_gdelt.py).
_FIPS_DIFFERENT = dict(
    pair.split(":")
    for pair in """
    AA:ABW AC:ATG AG:DZA AJ:AZE AN:AND AQ:ASM AS:AUS AU:AUT AV:AIA AY:ATA BA:BHR BC:BWA BD:BMU
    BF:BHS BG:BGD BH:BLZ BK:BIH BL:BOL BM:MMR BN:BEN BO:BLR BP:SLB BU:BGR BX:BRN BY:BDI CB:KHM
    CD:TCD CE:LKA CF:COG CG:COD CH:CHN CI:CHL CJ:CYM CK:CCK CN:COM CQ:MNP CS:CRI CT:CAF CW:COK
    DA:DNK DO:DMA DR:DOM EI:IRL EK:GNQ EN:EST ES:SLV EZ:CZE FG:GUF FP:PYF FS:ATF GA:GMB GB:GAB
    GG:GEO GJ:GRD GK:GGY GM:DEU GQ:GUM GV:GIN GZ:PSE HA:HTI HO:HND IC:ISL IS:ISR IV:CIV IZ:IRQ
    JA:JPN KN:PRK KR:KIR KS:KOR KT:CXR KU:KWT KV:XKX LE:LBN LG:LVA LH:LTU LI:LBR LO:SVK LS:LIE
    LT:LSO MA:MDG MB:MTQ MC:MAC MF:MYT MG:MNG MH:MSR MI:MWI MJ:MNE MN:MCO MO:MAR MP:MUS MR:MRT
    MU:OMN NE:NIU NG:NER NH:VUT NI:NGA NN:SXM NS:SUR NU:NIC OD:SSD PA:PRY PC:PCN PM:PAN PO:PRT
    PP:PNG PS:PLW PU:GNB RB:SRB RI:SRB RM:MHL RN:MAF RP:PHL RQ:PRI RS:RUS SB:SPM SC:KNA SE:SYC SF:ZAF
    SG:SEN SN:SGP SP:ESP ST:LCA SU:SDN SV:SJM SW:SWE SX:SGS SZ:CHE TB:BLM TD:TTO TI:TJK TK:TCA
    TL:TKL TN:TON TO:TGO TP:STP TS:TUN TT:TLS TU:TUR TX:TKM UC:CUW UK:GBR UP:UKR UV:BFA VI:VGB
    VM:VNM VQ:VIR VT:VAT WA:NAM WE:PSE WI:ESH WZ:SWZ YM:YEM ZA:ZMB ZI:ZWE
    """.split()
)
# Oceans, disputed islets and US minor islands: no ISO country, so the actor's country stands in.
_FIPS_NONE = frozenset("OS PF PG BQ IP CR AT DQ FQ HQ JQ KQ LQ MQ WQ EU JU BS GO TE".split())

# CAMEO country codes that predate the ISO code or have none.
_CAMEO_COUNTRY_ALIASES = {"TMP": "TLS", "ROM": "ROU", "ZAR": "COD", "KSV": "XKX"}

# CAMEO actor type codes (the first role) onto actor kinds; "" is a bare country, i.e. the state.
_STATE_ROLES = frozenset({"", "GOV", "MIL", "COP", "SPY", "JUD", "LEG"})
_NON_STATE_ROLES = frozenset({"REB", "INS", "SEP", "UAF", "RAD", "OPP", "CRM", "UIS"})
_CIVILIAN_ROLES = frozenset({"CVL", "REF"})


def fips_to_iso3(code: str) -> str | None:
    """ISO3 for a FIPS 10-4 country code, or None (no country, or unknown)."""
    code = code.strip().upper()
    if not code or code in _FIPS_NONE:
        return None
    if code in _FIPS_DIFFERENT:
        return _FIPS_DIFFERENT[code]
    found = pycountry.countries.get(alpha_2=code)
    return found.alpha_3 if found else None


def _actor(row: dict[str, str], n: int) -> dict | Skipped:
    name = row[f"Actor_{n}_Name"].strip() or row[f"Actor_{n}_Country_Code"].strip()
    code = row[f"Actor_{n}_Country_ABBR"].strip().upper()
    code = _CAMEO_COUNTRY_ALIASES.get(code, code)
    country = code if is_iso3(code) else None
    role = row[f"Actor_{n}_Role"].strip().upper()
    if role in _STATE_ROLES:
        if country is None:
            return Skipped(f"actor country {code or 'none'} is not a state", f"actor{n} {name!r}")
        return {"name": name.title(), "country": country, "kind": "state"}
    if role in _NON_STATE_ROLES:
        return {"name": name.title(), "country": country, "kind": "non_state"}
    if role in _CIVILIAN_ROLES:
        return {"name": name.title(), "country": country, "kind": "civilians"}
    return Skipped(f"actor role {role} has no actor kind", f"actor{n} {name!r}")


def _admin1(row: dict[str, str]) -> str | None:
    # Geo types 2/5 are named "ADM1, country", 3/4 "city, ADM1, country"; type 1 is a country.
    place = [part.strip() for part in row["ST_PR_CNTRY"].split(",")]
    geo_type = row["Mention_Type"].strip()  # the renamed ActionGeo_Type column
    name = place[0] if geo_type in {"2", "5"} else place[1] if geo_type in {"3", "4"} and len(place) >= 3 else ""
    return name or None


def _float(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


def to_event(row: dict[str, str], where: str) -> dict | Skipped:
    """One GDELT row as a contract dict, or why it cannot be one."""
    code = row["Event_Code"].strip()
    if vocabulary.action_from_cameo(code) is None:
        return Skipped("unknown CAMEO code", f"{where}: {code!r}")
    actors = [_actor(row, 1), _actor(row, 2)]
    for actor in actors:
        if isinstance(actor, Skipped):
            return Skipped(actor.reason, f"{where}: {actor.detail}")
    actor1, actor2 = actors
    # Where it happened; with no usable place, the initiator's own country stands in.
    country = fips_to_iso3(row["Country"]) or actor1["country"]  # type: ignore[index]
    if country is None:
        return Skipped("no location country", f"{where}: Country={row['Country']!r}")
    event = {
        "source": SOURCE,
        "source_event_id": row["Global_Event_ID"].strip(),
        "occurred_on": datetime.strptime(row["Day"].strip(), "%Y%m%d").date().isoformat(),
        "actor1": actor1,
        "actor2": actor2,
        "location": {
            "country": country,
            "admin1": _admin1(row) if fips_to_iso3(row["Country"]) else None,
            "latitude": _float(row["Lat_Extra"]),
            "longitude": _float(row["Long_Extra"]),
        },
        "cameo_code": code,
        "notes": f"{row['Num_Mentions'].strip()} mentions; {row['Source_URL'].strip()}"[:4000],
    }
    return checked(event, where)


def iter_rows(path: Path) -> Iterator[dict | Skipped]:
    """Rows of one CSV file, or of every *.csv in a folder, in file-name order."""
    files = sorted(Path(path).glob("*.csv")) if Path(path).is_dir() else [Path(path)]
    for file in files:
        with open(file, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                where = f"{file.name} line {reader.line_num}"
                try:
                    yield to_event(row, f"{where} ({row['Global_Event_ID']})")
                except (KeyError, ValueError) as exc:
                    yield Skipped("malformed row", f"{where}: {exc!r}")


def iter_events(path: Path) -> Iterator[dict]:
    return events_only(iter_rows(path))
