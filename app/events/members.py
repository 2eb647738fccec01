"""Member ids, their kinds and dyad ids: the one place that knows how they are spelled.

A state is its ISO3 code (`PAK`); a non-state actor is `nsa:` plus a slug of its name
(`nsa:jaish-al-adl`; a name with no Latin letters or digits: `nsa:x-` and 12 hex digits of its
SHA-256); civilians are `civ:` plus the ISO3 of the territory (`civ:PAK`). A dyad id is its two
member ids, sorted, joined by `--` (`IRN--PAK`); slugs never hold `--`.
"""

import hashlib
import re

from app import countries

NONSTATE = "nsa:"
CIVILIANS = "civ:"
SEPARATOR = "--"
# A member id as the OpenAPI document spells it (unanchored, to be combined): a slug is at most 80 characters.
PATTERN = (rf"(?:{countries.ALTERNATION}|{CIVILIANS}{countries.ALTERNATION}"
           rf"|{NONSTATE}(?=[a-z0-9-]{{1,80}}(?:$|--))[a-z0-9]+(?:-[a-z0-9]+)*)")
DYAD_PATTERN = f"^{PATTERN}{SEPARATOR}{PATTERN}$"
# Kinds in the order a dyad kind names them (`state_nonstate`, never `nonstate_state`).
KINDS = ("state", "nonstate", "civilians")


def slug(name: str) -> str:
    """Lower-case ASCII words joined by '-'; a name with none (e.g. in Arabic script) gets a stable hash."""
    words = re.sub(r"[^a-z0-9]+", "-", name.lower())[:80].strip("-")
    return words or "x-" + hashlib.sha256(name.strip().encode()).hexdigest()[:12]


def state(iso3: str) -> str:
    return iso3


def nonstate(name: str) -> str:
    return NONSTATE + slug(name)


def civilians(iso3: str) -> str:
    return CIVILIANS + iso3


def is_nonstate(member: str) -> bool:
    return member.startswith(NONSTATE)


def is_civilians(member: str) -> bool:
    return member.startswith(CIVILIANS)


def is_state(member: str) -> bool:
    return not (is_nonstate(member) or is_civilians(member))


def kind_of(member: str) -> str:
    return "civilians" if is_civilians(member) else "nonstate" if is_nonstate(member) else "state"


def member_country(member: str) -> str | None:
    """The ISO3 a member belongs to: the state itself, the civilians' territory; None for a non-state actor."""
    if is_nonstate(member):
        return None
    return member.removeprefix(CIVILIANS)


def of_country(iso3: str) -> tuple[str, str]:
    """Every member id that belongs to a country: the state and its civilians."""
    return state(iso3), civilians(iso3)


def normalise(text: str) -> str:
    """A member id as a client may type it, as stored: ISO3 upper-case, `nsa:` slugs lower-case, `civ:` + ISO3."""
    kind, _, rest = text.strip().rpartition(":")
    if kind.lower() == NONSTATE[:-1]:
        return NONSTATE + rest.lower()
    return f"{kind.lower()}:{rest.upper()}" if kind else rest.upper()


def dyad_kind(a: str, b: str) -> str:
    first, second = sorted((kind_of(a), kind_of(b)), key=KINDS.index)
    return f"{first}_{second}"


def dyad_id(a: str, b: str) -> str:
    return SEPARATOR.join(sorted((a, b)))


def dyad_members(dyad: str) -> tuple[str, str]:
    """The two member ids of a dyad id (slugs never hold the separator)."""
    a, b = dyad.split(SEPARATOR)
    return a, b
