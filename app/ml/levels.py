"""Risk levels, lowest first. The model card holds the cut-off of each level above `low`."""

from enum import StrEnum


class Level(StrEnum):
    """One named type wherever a level is read or written: the OpenAPI document has one `Level` component."""

    low = "low"
    elevated = "elevated"
    high = "high"
    critical = "critical"


LEVELS: tuple[str, ...] = tuple(level.value for level in Level)


def at_least(level: str, floor: str) -> bool:
    return LEVELS.index(level) >= LEVELS.index(floor)
