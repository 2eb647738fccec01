"""Risk levels, lowest first. The model card holds the cut-off of each level above `low`."""

from typing import Literal, get_args

Level = Literal["low", "elevated", "high", "critical"]
LEVELS: tuple[str, ...] = get_args(Level)


def at_least(level: str, floor: str) -> bool:
    return LEVELS.index(level) >= LEVELS.index(floor)
