"""Storage: the one layer that writes SQL and knows which database it runs on.

- `engine`: the engine factory with each dialect's connection settings, metadata and column types, session
  factories (the base the domains' tables build on).
- `bulk`: writing many rows at once (`COPY` and staging tables on PostgreSQL, `executemany` on SQLite), and
  reading rows by key or by a set of ids as one parameter.
- `windows`: a dyad's history as the model reads it, for many dyads in one statement.
- `locks`: the locks writers take, their order, and the deadlock retry.
- `feed`: the feed's append lock and its head, read on a connection of each worker's own.
- `watchdog`: PostgreSQL that stops answering.

Services and flows hold no SQL text and no dialect branches: they call these.
"""
