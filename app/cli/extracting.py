"""`escalation extract`: draft events from a news report, printed as a /v1/events/batch body or stored."""

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import ExitCode, err, fail, out


def extract(
    path: Annotated[Path, typer.Argument(help="the report, a UTF-8 text file", show_default=False)],
    published_on: Annotated[str, typer.Option("--published-on", help="the day it was published (YYYY-MM-DD): "
                                              "weekdays resolve against it", show_default=False)],
    source: Annotated[str, typer.Option(help="the drafts' `source`")] = "extract",
    post: Annotated[bool, typer.Option("--post", help="store the drafts (and assess their dyads) through the write "
                                       "flow `escalation import` uses, instead of printing them")] = False,
) -> None:
    """Draft events from a report. Prints `{"items": [...]}`, ready for POST /v1/events/batch after review; the
    sentences that look like events but could not be resolved go to stderr. `--post` stores them instead: running
    it twice on the same file gives `unchanged`."""
    from app import errors
    from app.extract import service

    try:
        day = date.fromisoformat(published_on)
    except ValueError:
        raise fail(f"--published-on is not a date (YYYY-MM-DD): {published_on!r}", ExitCode.USAGE) from None
    if not path.is_file():
        raise fail(f"no such file: {path}", ExitCode.USAGE)
    try:
        text = path.read_bytes().decode("utf-8")
        result = service.extract(text, day, source)
    except UnicodeDecodeError as exc:
        raise fail(f"{path} is not UTF-8 text (byte {exc.start})", ExitCode.INVALID_INPUT) from None
    except errors.AppError as exc:
        raise fail(exc.detail, ExitCode.INVALID_INPUT) from None
    for u in result.unresolved:
        err.print(f"unresolved ({u.reason}): {u.sentence[:160]}", highlight=False, markup=False)
    if not post:
        items = [e.model_dump(mode="json", exclude_none=True) for e in result.events]
        sys.stdout.write(json.dumps({"items": items}, ensure_ascii=False, indent=2) + "\n")  # JSON as is: no wrapping
        return
    if not result.events:
        raise fail("no event could be drafted from this report; nothing was written", ExitCode.INVALID_INPUT)
    _store(result.events)


def _store(events) -> None:
    from collections import Counter

    from app import errors
    from app.cli.importing import _target
    from app.events.history import WindowCache
    from app.risk import flow

    scorer, factory = _target()  # the model and a migrated database, as `escalation import` gets them
    try:
        with factory.begin() as session:
            written = flow.ingest(session, scorer, events, window_cache=WindowCache())
    except errors.AppError as exc:
        raise fail(f"the drafts were refused: {exc.detail}; nothing was written", ExitCode.INVALID_INPUT) from None
    counts = Counter(r.status for r in written.results)
    out.print(" ".join(f"{s} {counts[s]}" for s in ("created", "revised", "unchanged")) +
              f"; assessments written {written.assessed}", highlight=False)
