"""`escalation serve`, `migrate` and `keys`: running the service and administering its database."""

import os
from typing import Annotated

import typer

from app.cli.common import ExitCode, err, fail, out, sessions, settings


def serve(
    host: Annotated[str | None, typer.Option(help="address to bind (default ESCALATION_HOST, else 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default ESCALATION_PORT, else 8000)")] = None,
    workers: Annotated[int | None, typer.Option(min=1, max=64, help="worker processes on one database "
                                                "(default ESCALATION_WORKERS, else 1)")] = None,
) -> None:
    """Run the HTTP service (migrates the embedded SQLite database first).

    Bound to anything but loopback it refuses to start without an API key (exit 2).
    """
    import uvicorn

    from app.auth.middleware import is_loopback
    from app.auth.service import KeyRing

    base = settings()
    current = base.model_copy(update={"host": host or base.host, "port": port or base.port,
                                      "workers": workers or base.workers})
    secret = current.bootstrap_api_key.get_secret_value() if current.bootstrap_api_key else None
    ring = KeyRing(sessions(current), secret)
    ring.load()
    if ring.open and not is_loopback(current.host):
        raise fail(f"refusing to serve on {current.host} with no API key: create one with `escalation keys create`"
                   " or set ESCALATION_BOOTSTRAP_API_KEY, or bind to 127.0.0.1", ExitCode.USAGE)
    _free_or_fail(current.host, current.port)
    from app.main import create_app
    from app.server import uvicorn_options

    from app import logs

    options = dict(host=current.host, port=current.port, log_level=current.log_level, access_log=False,
                   log_config=logs.config(current.log_format, current.log_level), **uvicorn_options(current))
    if current.workers == 1:
        uvicorn.run(create_app(current), **options)
        return
    # Several processes: uvicorn spawns and supervises them; each builds the app from the environment.
    from app import observability

    os.environ.update(ESCALATION_HOST=current.host, ESCALATION_PORT=str(current.port))
    with observability.multiprocess_dir():
        uvicorn.run("app.main:create_app", factory=True, workers=current.workers, **options)


def _free_or_fail(host: str, port: int) -> None:
    """Exit 5 with one line if the address is taken, before the model loads (uvicorn would find out after)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise fail(f"cannot bind {host}:{port}: {exc.strerror or exc}", ExitCode.USAGE) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: a closing socket is no obstacle
        try:
            probe.bind(address)
        except OSError as exc:
            raise fail(f"{host}:{port} is in use ({exc.strerror}): stop what listens there or pick another "
                       "--port (make serve PORT=...)", ExitCode.ADDRESS_IN_USE) from None


def migrate(
    revision: Annotated[str, typer.Argument(help="target revision")] = "head",
    downgrade: Annotated[bool, typer.Option("--downgrade", help="downgrade to the revision instead")] = False,
) -> None:
    """Apply the Alembic migrations to the configured database (default: up to head)."""
    from sqlalchemy.exc import OperationalError

    from app import migrate as migrations

    url = settings().resolved_database_url
    try:
        if revision.startswith("-") or downgrade:
            migrations.downgrade(url, revision)
        else:
            migrations.upgrade(url, revision)
    except OperationalError as exc:
        raise fail(f"cannot reach the database: {exc.orig}", ExitCode.DATABASE) from None
    out.print(f"database at {revision}", highlight=False)


keys = typer.Typer(help="Manage API keys (scopes: ingest, read, metrics, admin).", no_args_is_help=True)


@keys.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="who the key is for")],
    scopes: Annotated[str, typer.Option(help="comma-separated: ingest,read,metrics,admin")] = "read",
) -> None:
    """Create a key; its secret is printed once, on the last line."""
    from app.auth import service

    with sessions(settings()).begin() as session:
        key, plaintext = service.create(session, name, scopes.split(","))
    err.print(f"created key [bold]{key.prefix}[/] ({key.scopes}); shown once, store it now:", highlight=False)
    print(plaintext)  # plain print: never wrapped or styled, so `| tail -1` gets the exact secret


@keys.command("list")
def keys_list() -> None:
    """List active keys: prefix, name, scopes, creation date (tab-separated)."""
    from app.auth import service

    with sessions(settings()).begin() as session:
        for k in service.active(session):
            print(f"{k.prefix}\t{k.name}\t{k.scopes}\t{k.created_at:%Y-%m-%d}")


@keys.command("revoke")
def keys_revoke(prefix: Annotated[str, typer.Argument(help="the key's prefix, as `keys list` shows it")]) -> None:
    """Revoke a key (exit 1 when no active key has that prefix)."""
    from app.auth import service

    with sessions(settings()).begin() as session:
        if not service.revoke(session, prefix):
            raise fail(f"no active key {prefix}", ExitCode.FAILED)
    out.print(f"revoked {prefix}", highlight=False)
