"""Tables for people's own tools: events, assessments, the ranking and a dyad's series as rows of named columns,
written as CSV or Parquet. The rows come from the same services as the API's answers, a page at a time, so an
export of a large table streams (CSV) or is written a row group at a time (Parquet)."""

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from app.events import service as event_service
from app.ml.scorer import Scorer
from app.risk import service as risk_service
from app.risk.cache import RiskCache

FORMATS = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}
PAGE = 5_000  # rows read at a time


@dataclass(frozen=True)
class Table:
    """A table's columns, each (name, its type for Parquet: string, int64, float64, bool, date, timestamp)."""

    name: str
    columns: tuple[tuple[str, str], ...]


EVENTS = Table("events", (
    ("id", "int64"), ("source", "string"), ("source_event_id", "string"), ("revision", "int64"),
    ("occurred_on", "date"), ("actor1_name", "string"), ("actor1_kind", "string"), ("actor1_country", "string"),
    ("actor2_name", "string"), ("actor2_kind", "string"), ("actor2_country", "string"),
    ("location_country", "string"), ("location_admin1", "string"), ("latitude", "float64"), ("longitude", "float64"),
    ("action", "string"), ("hostility", "int64"), ("event_type", "string"), ("sub_event_type", "string"),
    ("cameo_code", "string"), ("fatalities", "int64"), ("civilian_fatalities", "int64"), ("injured", "int64"),
    ("weapons", "string"), ("retaliation", "bool"), ("responds_to", "int64"), ("notes", "string"),
    ("created_at", "timestamp"), ("updated_at", "timestamp"), ("retracted_at", "timestamp")))
ASSESSMENTS = Table("assessments", (
    ("id", "int64"), ("dyad_id", "string"), ("as_of", "date"), ("probability", "float64"), ("low", "float64"),
    ("high", "float64"), ("level", "string"), ("model_version", "string"), ("reason", "string"),
    ("trigger_event_id", "int64"), ("last_event_on", "date"), ("event_count", "int64"), ("created_at", "timestamp")))
RANKING = Table("ranking", (
    ("rank", "int64"), ("dyad_id", "string"), ("member_a", "string"), ("member_b", "string"), ("kind", "string"),
    ("as_of", "date"), ("probability", "float64"), ("low", "float64"), ("high", "float64"), ("level", "string"),
    ("last_event_on", "date"), ("event_count", "int64"), ("model_version", "string")))
SERIES = Table("series", (
    ("dyad_id", "string"), ("as_of", "date"), ("probability", "float64"), ("low", "float64"), ("high", "float64"),
    ("level", "string"), ("last_event_on", "date"), ("event_count", "int64"), ("top_driver", "string"),
    ("model_version", "string")))


def events(sessions: sessionmaker[Session], *, dyad: str | None = None, country: str | None = None,
           since: date | None = None, until: date | None = None, include_retracted: bool = False) -> Iterator[dict]:
    """Events in id order, as `GET /v1/events` lists them, a page at a time (each page a session of its own)."""
    after = 0
    while True:
        with sessions() as session:
            page = event_service.search(session, dyad=dyad, country=country, since=since, until=until,
                                        include_retracted=include_retracted, after_id=after, limit=PAGE)
        for e in page:
            yield {"id": e.id, "source": e.source, "source_event_id": e.source_event_id, "revision": e.revision,
                   "occurred_on": e.occurred_on, "actor1_name": e.actor1_name, "actor1_kind": e.actor1_kind,
                   "actor1_country": e.actor1_country, "actor2_name": e.actor2_name, "actor2_kind": e.actor2_kind,
                   "actor2_country": e.actor2_country, "location_country": e.location_country,
                   "location_admin1": e.location_admin1, "latitude": e.latitude, "longitude": e.longitude,
                   "action": e.action, "hostility": e.hostility, "event_type": e.event_type,
                   "sub_event_type": e.sub_event_type, "cameo_code": e.cameo_code, "fatalities": e.fatalities,
                   "civilian_fatalities": e.civilian_fatalities, "injured": e.injured,
                   "weapons": ";".join(e.weapons or []), "retaliation": e.retaliation,
                   "responds_to": e.responds_to_id, "notes": e.notes, "created_at": e.created_at,
                   "updated_at": e.updated_at, "retracted_at": e.retracted_at}
        if len(page) < PAGE:
            return
        after = page[-1].id


def assessments(sessions: sessionmaker[Session], *, after: int = 0, dyad: str | None = None) -> Iterator[dict]:
    """The change feed after a cursor, in id order (a dyad's only, with `dyad`)."""
    while True:
        with sessions() as session:
            page = risk_service.feed(session, after, PAGE)
        for a in page:
            if dyad is None or a.dyad_id == dyad:
                interval = a.interval or {}
                yield {"id": a.id, "dyad_id": a.dyad_id, "as_of": a.as_of, "probability": a.probability,
                       "low": interval.get("low"), "high": interval.get("high"), "level": a.level,
                       "model_version": a.model_version, "reason": a.reason, "trigger_event_id": a.trigger_event_id,
                       "last_event_on": a.last_event_on, "event_count": a.event_count, "created_at": a.created_at}
        if len(page) < PAGE:
            return
        after = page[-1].id


def ranking(session: Session, scorer: Scorer, cache: RiskCache, as_of: date, *, country: str | None,
            min_level: str | None) -> Iterator[dict]:
    """Every dyad by its risk as of a date, as `GET /v1/dyads` ranks them."""
    ranked = risk_service.ranked(session, scorer, cache, as_of, country=country, min_level=min_level, offset=0,
                                 limit=10**9)
    for n, d in enumerate((d for d in ranked if d.current), start=1):
        r = d.current
        yield {"rank": n, "dyad_id": d.id, "member_a": d.members[0], "member_b": d.members[1], "kind": d.kind,
               "as_of": r.as_of, "probability": r.probability, "low": r.interval.low, "high": r.interval.high,
               "level": r.level, "last_event_on": r.last_event_on, "event_count": r.event_count,
               "model_version": r.model_version}


def series(session: Session, scorer: Scorer, dyad_id: str, dates: list[date], step: int) -> Iterator[dict]:
    """A dyad's risk through time, as `GET /v1/dyads/{id}/series` gives it."""
    dyad, marker = risk_service.get_dyad(session, dyad_id)
    answer = risk_service.through_time(session, scorer, dyad, dates, step, marker)
    for p in answer.points:
        yield {"dyad_id": dyad_id, "as_of": p.as_of, "probability": p.probability, "low": p.interval.low,
               "high": p.interval.high, "level": p.level, "last_event_on": p.last_event_on,
               "event_count": p.event_count, "top_driver": p.drivers[0].label if p.drivers else None,
               "model_version": answer.model_version}


def csv_chunks(table: Table, rows: Iterator[dict]) -> Iterator[bytes]:
    """The header, then the rows, a page at a time, as UTF-8 CSV (dates ISO 8601; empty for none)."""
    names = [name for name, _ in table.columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, names, extrasaction="raise", lineterminator="\n")
    writer.writeheader()
    for n, row in enumerate(rows, start=1):
        writer.writerow(row)
        if n % PAGE == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def parquet_bytes(table: Table, rows: Iterator[dict]) -> bytes:
    """The rows as one Parquet file, written a row group at a time (columns typed as `table` says)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    kinds = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_(),
             "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC")}
    schema = pa.schema([(name, kinds[kind]) for name, kind in table.columns])
    out = io.BytesIO()
    with pq.ParquetWriter(out, schema) as writer:
        for group in _pages(rows):
            writer.write_table(pa.Table.from_pylist(group, schema=schema))
    return out.getvalue()


def _pages(rows: Iterator[dict]) -> Iterator[list[dict]]:
    page: list[dict] = []
    for row in rows:
        page.append(row)
        if len(page) == PAGE:
            yield page
            page = []
    yield page


def write(table: Table, rows: Iterator[dict], fmt: str, sink: Callable[[bytes], object]) -> None:
    """Every row into `sink` (a file's write) in the format named."""
    if fmt == "parquet":
        sink(parquet_bytes(table, rows))
        return
    for chunk in csv_chunks(table, rows):
        sink(chunk)
