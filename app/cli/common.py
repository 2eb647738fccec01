"""What the commands share: exit codes, the two consoles, settings, write sessions on a migrated database, and
Ctrl-C or SIGTERM held while a batch's transaction runs."""

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
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


class Interrupts:
    """Ctrl-C or SIGTERM (a deadline, `docker stop`) for a command that writes in batches, one transaction each:
    `holding()` is where a signal is only recorded, `stop_if_asked()` (between batches) raises it, and elsewhere
    (loading the model, waiting for input) it raises at once; after `finish()` it is only recorded. Raised inside a
    database call, it would leave the connection mid-command and its rollback would fail ("another command is
    already in progress") as a database error. A second signal raises at once, even while holding.

    Python runs a handler wherever the interpreter is: a KeyboardInterrupt raised inside a garbage-collection or
    weakref callback is dropped, printed as "Exception ignored in ...". The signal stays recorded, so the next
    `stop_if_asked()` still stops the command, and `interrupts()` keeps that noise off the screen."""

    def __init__(self) -> None:
        self.pending: int | None = None  # the first signal, until it has stopped the command
        self.held = False
        self.finishing = False  # the command is saying what it committed: signals no longer cut it short

    def __call__(self, signum, _frame) -> None:
        if self.pending is None:
            self.pending = signum
            if self.held:
                return
        if not self.finishing:
            raise KeyboardInterrupt(f"signal {signum}")

    def finish(self) -> None:
        """From here on the command only reports (what it committed, why it stopped): a signal, even a second
        one, is recorded and no longer raised, so the report is never cut or replaced by another."""
        self.finishing = True

    @contextmanager
    def holding(self) -> Iterator[None]:
        self.held = True
        try:
            yield
        finally:
            self.held = False

    def stop_if_asked(self) -> None:
        if self.pending is not None:
            raise KeyboardInterrupt(f"signal {self.pending}")


@contextmanager
def interrupts() -> Iterator[Interrupts]:
    """SIGINT and SIGTERM handled by an `Interrupts` until the block ends (the handlers before it restored)."""
    interrupt = Interrupts()
    previous = {s: signal.signal(s, interrupt) for s in (signal.SIGTERM, signal.SIGINT)}
    hook = sys.unraisablehook

    def unraisable(info) -> None:  # a dropped KeyboardInterrupt is recorded: not an error to print
        if not (info.exc_type is KeyboardInterrupt and interrupt.pending is not None):
            hook(info)

    sys.unraisablehook = unraisable
    try:
        yield interrupt
    finally:
        sys.unraisablehook = hook
        for s, handler in previous.items():
            signal.signal(s, handler)
