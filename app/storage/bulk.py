"""Writing many rows in one go, in the caller's transaction: COPY on PostgreSQL, executemany on SQLite.

On PostgreSQL rows go through psycopg's COPY on the session's own connection: one stream instead of
one statement per row. Where COPY alone cannot say the write (ON CONFLICT, UPDATE ... FROM), rows
are copied into a temporary staging table of the needed columns (one per connection, emptied at
commit) and one statement moves them, deleting them from the stage as it reads them so that the
stage can be used again in the same transaction. SQLite, embedded and single-writer, keeps
SQLAlchemy's executemany. Rows are dicts of column values; a JSON column takes any JSON-ready value,
or a `JSONText` that is already serialised.
"""

import json
import zlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import itemgetter

import orjson
import psycopg
from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    Row,
    String,
    Table,
    any_,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.database import Base

_ORJSON = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


class JSONText(str):
    """A JSON document already serialised, written as is."""


def dumps(value) -> JSONText:
    """JSON text of a value (numpy scalars included), once: orjson, several times faster than json."""
    return JSONText(orjson.dumps(value, option=_ORJSON).decode())


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _json_columns(table: Table) -> set[str]:
    return {c.name for c in table.columns if isinstance(c.type, JSON)}


def _for_sqlalchemy(table: Table, rows: list[dict]) -> list[dict]:
    """Rows as SQLAlchemy's JSON type wants them: values, not text."""
    wanted = _json_columns(table)
    return [{k: json.loads(v) if k in wanted and isinstance(v, JSONText) else v for k, v in r.items()}
            for r in rows]


def _is_datetime(column_type) -> bool:
    return isinstance(column_type, DateTime) or isinstance(getattr(column_type, "impl", None), DateTime)


def _copy(session: Session, target: str, table: Table, columns: Sequence[str], rows: list[dict]) -> None:
    """COPY the rows in. COPY bypasses SQLAlchemy, so two of its duties are done here: a naive
    datetime is refused (the UTCDateTime columns store UTC only), and a driver error is raised as
    SQLAlchemy's (OperationalError, IntegrityError...), which the API's handlers map to a 503/4xx."""
    wanted = _json_columns(table)
    json_at = [n for n, c in enumerate(columns) if c in wanted]
    times_at = [n for n, c in enumerate(columns) if _is_datetime(table.c[c].type)]
    get = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
    statement = f"COPY {target} ({', '.join(columns)}) FROM STDIN"
    connection = session.connection()
    cursor = connection.connection.driver_connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                values = list(get(row))
                for n in json_at:
                    if values[n] is not None and not isinstance(values[n], JSONText):
                        values[n] = dumps(values[n])
                for n in times_at:
                    if isinstance(values[n], datetime) and values[n].tzinfo is None:
                        raise ValueError(f"naive datetime in a COPY to {target}: store UTC-aware datetimes")
                copy.write_row(values)
    except psycopg.Error as exc:
        if connection.dialect.is_disconnect(exc, connection.connection, cursor):
            connection.invalidate(exc)
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc


def _stage(session: Session, table: Table, columns: Sequence[str]) -> str:
    """A temporary table with these columns of `table`, on this connection; its rows go at commit.

    Named after the column list, so a changed list (or a migrated table) never meets an old stage.
    """
    name = f"stage_{table.name}_{zlib.crc32(','.join(columns).encode()):08x}"
    session.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {name} ON COMMIT DELETE ROWS AS "
                         f"SELECT {', '.join(columns)} FROM {table.name} WITH NO DATA"))
    return name


def _staged(session: Session, model: type[Base], rows: list[dict]) -> tuple[str, str]:
    """Copy the rows into a stage; a CTE that empties it as it reads it, and the column list."""
    table = model.__table__
    columns = list(rows[0])
    stage = _stage(session, table, columns)
    _copy(session, stage, table, columns, rows)
    names = ", ".join(columns)
    return f"WITH s AS (DELETE FROM {stage} RETURNING {names})", names


def insert_rows(session: Session, model: type[Base], rows: list[dict]) -> None:
    """Plain INSERT of many rows (no conflict expected)."""
    if not rows:
        return
    table = model.__table__
    if _postgres(session):
        _copy(session, table.name, table, list(rows[0]), rows)
    else:
        session.execute(insert(table), _for_sqlalchemy(table, rows))


def _move(session: Session, model: type[Base], rows: list[dict], order_by: str, conflict: str):
    """Stage the rows, then one INSERT ... SELECT from the stage in `order_by` order with this ON CONFLICT clause."""
    staged, names = _staged(session, model, rows)
    return session.execute(text(f"{staged} INSERT INTO {model.__table__.name} ({names}) SELECT {names} FROM s "
                                f"ORDER BY {order_by} {conflict}"))


def insert_new(session: Session, model: type[Base], rows: list[dict], *, key: list[str]) -> list[Row]:
    """INSERT ... ON CONFLICT (key) DO NOTHING, rows taken in key order; (id, *key) of each row inserted.

    A row another transaction inserted first is skipped (on PostgreSQL after waiting for that
    transaction's end), so what comes back is exactly what this transaction created.
    """
    if not rows:
        return []
    table = model.__table__
    keys = ", ".join(key)
    if _postgres(session):
        return list(_move(session, model, rows, keys, f"ON CONFLICT ({keys}) DO NOTHING RETURNING id, {keys}"))
    stmt = sqlite_insert(table).on_conflict_do_nothing(index_elements=key).returning(
        table.c.id, *(table.c[k] for k in key))
    return list(session.execute(stmt, _for_sqlalchemy(table, rows)))


def insert_ignore(session: Session, model: type[Base], rows: list[dict], *, key: str) -> None:
    """INSERT ... ON CONFLICT DO NOTHING, rows taken in key order."""
    if not rows:
        return
    table = model.__table__
    if _postgres(session):
        _move(session, model, rows, key, "ON CONFLICT DO NOTHING")
        return
    rows = sorted(rows, key=lambda r: r[key])
    session.execute(sqlite_insert(table).on_conflict_do_nothing(), _for_sqlalchemy(table, rows))


def upsert(session: Session, model: type[Base], rows: list[dict], *, key: str) -> None:
    """INSERT ... ON CONFLICT (key) DO UPDATE with the new values, rows taken in key order."""
    if not rows:
        return
    table = model.__table__
    if _postgres(session):
        assign = ", ".join(f"{c} = EXCLUDED.{c}" for c in rows[0] if c != key)
        _move(session, model, rows, key, f"ON CONFLICT ({key}) DO UPDATE SET {assign}")
        return
    stmt = sqlite_insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=[key], set_={c: stmt.excluded[c] for c in rows[0] if c != key})
    session.execute(stmt, _for_sqlalchemy(table, sorted(rows, key=lambda r: r[key])))


def update_rows(session: Session, model: type[Base], rows: list[dict], *, key: str = "id") -> None:
    """UPDATE many rows by key, each to its own values (every row names the same columns)."""
    if not rows:
        return
    table = model.__table__
    if _postgres(session):
        staged, _ = _staged(session, model, rows)
        assign = ", ".join(f"{c} = s.{c}" for c in rows[0] if c != key)
        session.execute(text(f"{staged} UPDATE {table.name} AS t SET {assign} FROM s WHERE t.{key} = s.{key}"))
        return
    stmt = update(table).where(table.c[key] == bindparam(f"_{key}")).values(
        {c: bindparam(c) for c in rows[0] if c != key})
    session.execute(stmt, [{f"_{key}" if k == key else k: v for k, v in r.items()}
                           for r in _for_sqlalchemy(table, rows)])


def insert_numbered(session: Session, model: type[Base], rows: list[dict]) -> list[int]:
    """INSERT rows whose ids the table's sequence gives now, ascending in row order; the ids.

    The ids are drawn when this runs: a caller that needs them in commit order holds a lock
    that orders the writers (app.storage.feed.feed_lock) before calling.
    """
    if not rows:
        return []
    ids = reserve_ids(session, model, len(rows))
    if ids is None:
        table = model.__table__
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(session.scalars(stmt, _for_sqlalchemy(table, rows)))
    insert_rows(session, model, [{"id": i, **r} for i, r in zip(ids, rows)])
    return ids


def _array_of(column) -> ARRAY:
    """A PostgreSQL array of the column's type; strings without their length (see `one_of`)."""
    return ARRAY(String() if isinstance(column.type, String) else column.type)


def one_of(session: Session, column, values: Iterable) -> ColumnElement[bool]:
    """`column IN (values)` with the values as one parameter: one cached statement however many there
    are (an expanded IN list is a new statement, parsed anew by the driver, at each length).

    PostgreSQL gets an array, which its planner sizes and matches in one index scan; SQLite a JSON
    list expanded by `json_each`. A string array is sent without the column's length: a
    `varchar(128)[]` parameter is coerced to `text[]` element by element, and where the plan puts the
    test in a filter (a generic plan, or no statistics yet) that coercion runs again for every row read.
    """
    values = list(values)
    if _postgres(session):
        return column == any_(bindparam(None, values, type_=_array_of(column)))
    spec = bindparam(None, json.dumps(values), type_=String)
    return column.in_(select(literal_column("value")).select_from(func.json_each(spec)))


def by_key(session: Session, columns: Sequence, where: Sequence, column, values: Sequence,
           lock: bool = False):
    """SELECT `columns` of the rows matching `where` and `column` = one of `values` (a key column:
    at most one row each), in `values`' order (duplicates dropped), locked FOR NO KEY UPDATE if `lock`.

    On PostgreSQL each value is one probe of the unique index (a LATERAL subquery with LIMIT 1 per
    value of an unnested array): the plan cannot depend on statistics. Written as `where AND column =
    ANY(values)`, a table without statistics yet (fresh, or autovacuum behind a backfill) took the
    planner to a scan of every row with `where`'s leading column (all of one source's events), testing
    the array against each: a cost that grows with the table. SQLite plans the IN list as probes.

    Order, and so lock order: a LIMIT subquery cannot be pulled up, so the only plan is a nested loop
    over the unnested array, in array order, and row locks rule out parallel plans. Callers pass the
    values sorted in Python (code-point order); every writer of this version locks in that order.
    """
    values = list(dict.fromkeys(values))
    if not _postgres(session):
        stmt = select(*columns).where(*where, one_of(session, column, values)).order_by(column)
        return session.execute(stmt.with_for_update(key_share=True) if lock else stmt)
    keys = func.unnest(bindparam(None, values, type_=_array_of(column))).table_valued("value").render_derived(name="k")
    probe = select(*columns).where(*where, column == keys.c.value).limit(1)
    # with_for_update(key_share=True) is FOR NO KEY UPDATE: foreign-key checks of referencing rows do not wait
    probe = (probe.with_for_update(key_share=True) if lock else probe).lateral("hit")
    return session.execute(select(probe).select_from(keys).join(probe, true()))


def reserve_ids(session: Session, model: type[Base], n: int) -> list[int] | None:
    """n new ids, ascending, from the table's sequence (PostgreSQL); None on SQLite, whose single
    writer can insert rows in order and leave the ids to the database."""
    if not _postgres(session):
        return None
    table = model.__table__.name
    # One array, not n rows: the driver converts it in one go, where rows each pass through the result machinery.
    return sorted(session.scalar(text(f"SELECT array_agg(nextval(pg_get_serial_sequence('{table}', 'id')))"
                                      " FROM generate_series(1, :n)"), {"n": n}) or [])
