"""Alembic environment: the URL comes from the caller's config (app.migrate) or from settings."""

from alembic import context
from sqlalchemy import pool

from app.config import get_settings
from app.database import make_engine
from app.models import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url


def run_offline() -> None:
    context.configure(url=url, target_metadata=metadata, literal_binds=True, compare_type=True,
                      render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        # SQLite alters tables by copying them: batch mode does that for us.
        context.configure(connection=connection, target_metadata=metadata, compare_type=True,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
