"""The storage layer's base: metadata with a naming convention, column types, the engine factory with each
dialect's connection settings, and session factories. The domains' tables build on it; the rest of the storage
layer (app.storage) holds the SQL."""

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    MetaData,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


# SQLite only auto-increments INTEGER PRIMARY KEY, so ids are BIGINT elsewhere and INTEGER there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes stored as UTC; SQLite, which keeps no zone, hands them back aware too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=timezone.utc)


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across process crashes
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # Writers take the lock at BEGIN so two of them queue (busy_timeout) instead of failing on
    # lock upgrade; readers stay deferred so WAL lets them run beside a writer.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("writer") else "BEGIN")


POOL_WAIT = 5.0  # seconds a request waits for a free pooled connection before a 503 database_busy


def make_engine(url: str, statement_timeout: float | None = None) -> Engine:
    """An engine for `url`; on PostgreSQL, `statement_timeout` (seconds) bounds each statement and each idle
    transaction on the server (the service sets it; maintenance commands, whose statements run long, do not)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling is off so that BEGIN IMMEDIATE is ours to issue.
        event.listen(engine, "connect", lambda c, _r: setattr(c, "isolation_level", None))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # A connection attempt is bounded (libpq's connect_timeout), and a peer that vanished is found by TCP
    # (keepalives; tcp_user_timeout for data sent and never acknowledged). A peer that keeps the socket open
    # and answers nothing is app.storage.watchdog's. A request waits at most POOL_WAIT for a pooled connection.
    # Defaults only: what the URL's query string says wins.
    engine = create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, pool_timeout=POOL_WAIT,
                           connect_args={k: v for k, v in CONNECT_DEFAULTS.items() if k not in parsed.query})
    event.listen(engine, "connect", lambda dbapi, _record: _postgres_settings(dbapi, statement_timeout))
    return engine


CONNECT_DEFAULTS = {"connect_timeout": 3, "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 2,
                    "keepalives_count": 3, "tcp_user_timeout": 10_000}


def _postgres_settings(dbapi_connection, statement_timeout: float | None) -> None:
    # Assessments carry ~4 KB of JSON each, compressed as they are stored: lz4 takes about half the
    # server time of the default pglz (bench_ingest). Only where the server was built with it.
    # Set per session, not as a startup `options` parameter, which PgBouncer refuses.
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SELECT set_config('default_toast_compression', 'lz4', false) FROM pg_settings"
                       " WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)")
        if statement_timeout is not None:
            ms = f"{int(statement_timeout * 1000)}"
            cursor.execute("SELECT set_config('statement_timeout', %s, false),"
                           " set_config('idle_in_transaction_session_timeout', %s, false)", (ms, ms))
    dbapi_connection.commit()


def make_sessionmaker(engine: Engine, *, writer: bool = False) -> sessionmaker[Session]:
    if writer:
        bind = engine.execution_options(writer=True)
    elif engine.dialect.name == "postgresql":
        # Reads skip BEGIN/COMMIT: two round trips saved on every poll. Each statement still sees
        # one committed snapshot, and ETags come from a single statement.
        bind = engine.execution_options(isolation_level="AUTOCOMMIT")
    else:
        bind = engine
    return sessionmaker(bind, expire_on_commit=False)


def is_postgres(bind: Engine | Session) -> bool:
    """Whether an engine or a session's bind is PostgreSQL (else SQLite): for the few places outside this layer
    that start something only one of them needs (the database watchdog)."""
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return engine.dialect.name == "postgresql"


def transactional_sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose transactions are real on either database (for claims that lock rows): SQLite's writer
    (BEGIN IMMEDIATE), PostgreSQL's default isolation (not the reads' autocommit)."""
    if engine.dialect.name == "sqlite":
        return make_sessionmaker(engine, writer=True)
    return sessionmaker(engine, expire_on_commit=False)

