"""CSV rows through a converter that returns an event dict or the reason a row was left out."""

import csv
import gzip
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path


def iter_converted(path: Path, convert: Callable[[dict], dict | str],
                   skipped: Counter[str] | None = None) -> Iterator[dict]:
    """Event dicts from a CSV file (gzipped if it ends in .gz); rows the converter rejects are counted in `skipped`
    by reason."""
    opener = gzip.open if path.suffix == ".gz" else open  # the global GED file ships gzipped
    with opener(path, "rt", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out = convert(row)
            if isinstance(out, str):
                if skipped is not None:
                    skipped[out] += 1
                continue
            yield out
