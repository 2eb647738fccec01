"""`escalation export`: events, assessments, the ranking or a dyad's series as CSV or Parquet, from the database
directly (the same services and columns as GET /v1/export)."""

import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import ExitCode, err, fail, sessions, settings


class What(StrEnum):
    events = "events"
    assessments = "assessments"
    ranking = "ranking"
    series = "series"


class Format(StrEnum):
    csv = "csv"
    parquet = "parquet"


def export(
    what: Annotated[What, typer.Argument(help="events | assessments | ranking | series (needs --dyad)")],
    output: Annotated[str, typer.Option("--output", "-o", help="a file, or - for standard output (CSV only)")] = "-",
    format: Annotated[Format, typer.Option(help="csv or parquet")] = Format.csv,
    dyad: Annotated[str | None, typer.Option(help="a dyad id, e.g. IRN--PAK (events, assessments, series)")] = None,
    as_of: Annotated[str | None, typer.Option(help="the ranking's date (default today), YYYY-MM-DD")] = None,
    start: Annotated[str | None, typer.Option("--from", help="a series' first date (default a year before "
                                                "--to)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="a series' last date (default today)")] = None,
    step: Annotated[int, typer.Option(min=1, max=366, help="days between a series' dates")] = 7,
) -> None:
    """Write a table as CSV (with a header row) or Parquet; the columns are listed in docs/api.md ("Export")."""
    from app import errors
    from app.export import service
    from app.http import utc_today
    from app.ml.scorer import load_scorer
    from app.risk import service as risk_service
    from app.risk.cache import RiskCache

    if format is Format.parquet and output == "-":
        raise fail("Parquet is binary: give a file with --output", ExitCode.USAGE)
    if what is What.series and not dyad:
        raise fail("a series needs --dyad", ExitCode.USAGE)
    try:
        days = {k: date.fromisoformat(v) if v else None for k, v in (("as_of", as_of), ("from", start), ("to", end))}
    except ValueError as exc:
        raise fail(f"a date must be YYYY-MM-DD: {exc}", ExitCode.USAGE) from None
    current = settings()
    factory = sessions(current)
    sink = sys.stdout.buffer if output == "-" else open(Path(output), "wb")  # noqa: SIM115 (closed below)
    try:
        if what is What.events:
            table, rows = service.EVENTS, service.events(factory, dyad=dyad)
        elif what is What.assessments:
            table, rows = service.ASSESSMENTS, service.assessments(factory, dyad=dyad)
        else:
            scorer = load_scorer(current.model_dir)
            with factory() as session:
                if what is What.ranking:
                    table, rows = service.RANKING, list(service.ranking(
                        session, scorer, RiskCache(), days["as_of"] or utc_today(), country=None, min_level=None))
                else:
                    dates = risk_service.series_between(days["from"], days["to"], step)
                    table, rows = service.SERIES, list(service.series(session, scorer, dyad, dates, step))
            rows = iter(rows)
        count = 0

        def counted():
            nonlocal count
            for row in rows:
                count += 1
                yield row

        service.write(table, counted(), format.value, sink.write)
    except errors.AppError as exc:
        raise fail(exc.detail, ExitCode.INVALID_INPUT) from None
    finally:
        if sink is not sys.stdout.buffer:
            sink.close()
    err.print(f"exported {count:,} {table.name} rows as {format.value}"
              + (f" to {output}" if output != "-" else ""), highlight=False)
