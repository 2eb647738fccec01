"""The canonical action ladder, weapon vocabulary, and the mappings from ACLED and CAMEO onto them.

Every event carries one canonical `action`. Its hostility level follows the MID/MIE scale
(1 no militarized action, 2 threat, 3 display, 4 use of force, 5 war); its `rung` is a finer
0-10 position on the escalation ladder used by the model (the MID codebook notes that action
codes are not ordinal, so the rung is ours and documented here).
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    hostility: int
    rung: int
    mid_code: int | None = None
    deescalation: bool = False
    directed: bool = True  # False where the data cannot say who started it (clash, war battle)


_ACTIONS = [
    Action("no_militarized_action", 1, 0, 0),
    Action("talks", 1, 0, deescalation=True),
    Action("agreement", 1, 0, deescalation=True),
    Action("ceasefire", 1, 0, deescalation=True),
    Action("withdrawal", 1, 0, deescalation=True),
    Action("threat_to_use_force", 2, 1, 1),
    Action("threat_to_blockade", 2, 2, 2),
    Action("threat_to_occupy", 2, 2, 3),
    Action("threat_to_declare_war", 2, 3, 4),
    Action("threat_to_use_cbr", 2, 3, 5),
    Action("threat_to_join_war", 2, 3, 6),
    Action("show_of_force", 3, 4, 7),
    Action("alert", 3, 4, 8),
    Action("nuclear_alert", 3, 6, 9),
    Action("mobilization", 3, 5, 10),
    Action("fortify_border", 3, 4, 11),
    Action("border_violation", 3, 5, 12),
    Action("blockade", 4, 7, 13),
    Action("occupation", 4, 8, 14),
    Action("seizure", 4, 7, 15),
    Action("attack", 4, 8, 16),
    Action("clash", 4, 8, 17, directed=False),
    Action("declaration_of_war", 4, 9, 18),
    Action("use_of_cbr", 4, 9, 19),
    Action("begin_war", 5, 10, 20),
    Action("join_war", 5, 10, 21),
    Action("war", 5, 10, 22, directed=False),
]

ACTIONS: dict[str, Action] = {a.name: a for a in _ACTIONS}
ACTION_BY_MID_CODE: dict[int, Action] = {a.mid_code: a for a in _ACTIONS if a.mid_code is not None}

HOSTILITY_LABELS = {1: "none", 2: "threat", 3: "display", 4: "use_of_force", 5: "war"}

WEAPONS = frozenset(
    {
        "drone", "rocket", "missile", "loitering_munition", "standoff_weapon", "artillery",
        "mortar", "airstrike", "small_arms", "ied", "landmine", "suicide_bomb", "naval",
        "armor", "chemical", "biological", "nuclear", "cyber", "other",
    }
)
# Weapons that reach across a border or far beyond the line of contact: a documented feature input.
STANDOFF_WEAPONS = frozenset(
    {"drone", "rocket", "missile", "loitering_munition", "standoff_weapon", "artillery", "airstrike", "naval"}
)

# ACLED (event_type, sub_event_type) -> (action, implied weapons). Protests are accepted but
# carry no militarized action.
ACLED: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("Battles", "Armed clash"): ("clash", ("small_arms",)),
    ("Battles", "Government regains territory"): ("occupation", ()),
    ("Battles", "Non-state actor overtakes territory"): ("occupation", ()),
    ("Explosions/Remote violence", "Chemical weapon"): ("use_of_cbr", ("chemical",)),
    ("Explosions/Remote violence", "Air/drone strike"): ("attack", ("airstrike",)),
    ("Explosions/Remote violence", "Suicide bomb"): ("attack", ("suicide_bomb",)),
    ("Explosions/Remote violence", "Shelling/artillery/missile attack"): ("attack", ("artillery",)),
    ("Explosions/Remote violence", "Remote explosive/landmine/IED"): ("attack", ("ied",)),
    ("Explosions/Remote violence", "Grenade"): ("attack", ("other",)),
    ("Violence against civilians", "Sexual violence"): ("attack", ()),
    ("Violence against civilians", "Attack"): ("attack", ()),
    ("Violence against civilians", "Abduction/forced disappearance"): ("seizure", ()),
    ("Strategic developments", "Agreement"): ("agreement", ()),
    ("Strategic developments", "Arrests"): ("seizure", ()),
    ("Strategic developments", "Change to group/activity"): ("no_militarized_action", ()),
    ("Strategic developments", "Disrupted weapons use"): ("show_of_force", ()),
    ("Strategic developments", "Headquarters or base established"): ("fortify_border", ()),
    ("Strategic developments", "Looting/property destruction"): ("seizure", ()),
    ("Strategic developments", "Non-violent transfer of territory"): ("withdrawal", ()),
    ("Strategic developments", "Other"): ("no_militarized_action", ()),
    ("Protests", "Peaceful protest"): ("no_militarized_action", ()),
    ("Protests", "Protest with intervention"): ("no_militarized_action", ()),
    ("Protests", "Excessive force against protesters"): ("attack", ()),
    ("Riots", "Violent demonstration"): ("clash", ()),
    ("Riots", "Mob violence"): ("attack", ()),
}

# CAMEO codes, most specific prefix first: 4-digit, then 3-digit, then the 2-digit root.
CAMEO: dict[str, tuple[str, tuple[str, ...]]] = {
    "0871": ("ceasefire", ()),
    "0873": ("withdrawal", ()),
    "0874": ("withdrawal", ()),
    "057": ("agreement", ()),
    "1381": ("threat_to_blockade", ()),
    "1382": ("threat_to_occupy", ()),
    "1385": ("threat_to_use_cbr", ()),
    "138": ("threat_to_use_force", ()),
    "139": ("threat_to_use_force", ()),
    "150": ("show_of_force", ()),
    "151": ("alert", ()),
    "152": ("alert", ()),
    "153": ("mobilization", ()),
    "154": ("show_of_force", ("cyber",)),
    "171": ("seizure", ()),
    "173": ("seizure", ()),
    "175": ("attack", ()),
    "176": ("attack", ("cyber",)),
    "181": ("seizure", ()),
    "183": ("attack", ("ied",)),
    "191": ("blockade", ()),
    "192": ("occupation", ()),
    "193": ("clash", ("small_arms",)),
    "194": ("clash", ("artillery", "armor")),
    "195": ("attack", ("airstrike",)),
    "196": ("clash", ()),
    "2041": ("use_of_cbr", ("chemical",)),
    "2042": ("use_of_cbr", ("nuclear",)),
    "04": ("talks", ()),
    "05": ("talks", ()),
    "06": ("agreement", ()),
    "18": ("attack", ()),
    "19": ("attack", ()),
    "20": ("attack", ()),
}
# Roots 01-03 and 07-17 not listed above are verbal or political: no militarized action.


def action_from_cameo(code: str) -> tuple[Action, tuple[str, ...]] | None:
    """Map a CAMEO event code (2-4 digits) onto the ladder; None if it is not a CAMEO code."""
    if not (code.isdigit() and 2 <= len(code) <= 4 and 1 <= int(code[:2]) <= 20):
        return None
    for n in (4, 3, 2):
        hit = CAMEO.get(code[:n])
        if hit:
            return ACTIONS[hit[0]], hit[1]
    return ACTIONS["no_militarized_action"], ()


def action_from_acled(event_type: str, sub_event_type: str) -> tuple[Action, tuple[str, ...]] | None:
    hit = ACLED.get((event_type, sub_event_type))
    return (ACTIONS[hit[0]], hit[1]) if hit else None


def table() -> dict:
    """Everything above, as served by GET /v1/vocabulary."""
    return {
        "actions": [
            {"name": a.name, "hostility": a.hostility, "hostility_label": HOSTILITY_LABELS[a.hostility],
             "rung": a.rung, "mid_code": a.mid_code, "deescalation": a.deescalation, "directed": a.directed}
            for a in ACTIONS.values()
        ],
        "weapons": sorted(WEAPONS),
        "standoff_weapons": sorted(STANDOFF_WEAPONS),
        "acled": [{"event_type": k[0], "sub_event_type": k[1], "action": v[0], "weapons": list(v[1])}
                  for k, v in ACLED.items()],
        "cameo": [{"code_prefix": k, "action": v[0], "weapons": list(v[1])} for k, v in CAMEO.items()],
    }
