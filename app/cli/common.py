"""What the commands share: exit codes, the two consoles, settings, and write sessions on a migrated database."""

from enum import IntEnum

import typer
from rich.console import Console

from app.config import Settings

# Results go to stdout (pipe them); progress, warnings and errors to stderr.
out = Console(soft_wrap=True)
err = Console(stderr=True)


class ExitCode(IntEnum):
    """Exit statuses scripts can rely on (also listed in `escalation --help` and docs/cli.md)."""

    OK = 0
    FAILED = 1  # the command ran and did not succeed (no such key, training or evaluation failed)
    USAGE = 2  # bad command line: unknown command, option or format, missing file, unsafe bind
    INVALID_INPUT = 3  # import: not text or not the format named, no row importable, or a batch refused
    DATABASE = 4  # database unreachable, or behind the migrations' head
    ADDRESS_IN_USE = 5  # serve: the address and port are taken (found before the model loads)
    INTERRUPTED = 130  # Ctrl-C; an import keeps the batches committed before it


EXIT_CODES_HELP = (
    "Exit codes: 0 ok · 1 failed · 2 usage error · 3 invalid input (import) · "
    "4 database unreachable or not migrated · 5 address in use (serve) · 130 interrupted."
)


def fail(message: str, code: ExitCode) -> typer.Exit:
    """Print `message` on stderr and return the Exit to raise."""
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(int(code))


def settings() -> Settings:
    from app import cli  # looked up at call time: tests replace `app.cli.get_settings`

    return cli.get_settings()


def sessions(settings: Settings):
    """Write sessions on a database at the migrations' head: the embedded one is migrated here."""
    from sqlalchemy.exc import OperationalError

    from app import migrate
    from app.database import make_engine, make_sessionmaker

    url = settings.resolved_database_url
    engine = make_engine(url)
    try:
        if settings.is_embedded and settings.auto_migrate:
            migrate.upgrade(url)
        with engine.connect() as conn:
            at_head = migrate.head_check(conn)["ok"]
    except OperationalError as exc:
        raise fail(f"cannot reach the database at {engine.url!r}: {exc.orig}", ExitCode.DATABASE) from None
    if not at_head:
        raise fail(f"the database at {engine.url!r} is not at the migrations' head: run `escalation migrate`",
                   ExitCode.DATABASE)
    return make_sessionmaker(engine, writer=True)
