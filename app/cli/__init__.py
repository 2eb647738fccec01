"""The `escalation` command line, on Typer and Rich: serve, migrate, keys, import, export, rederive, train, evaluate."""

import logging

import typer

from app.cli import exporting, extracting, importing, maintenance, modelling, server
from app.cli.common import EXIT_CODES_HELP, ExitCode
from app.config import get_settings

__all__ = ["ExitCode", "cli", "get_settings", "main"]

cli = typer.Typer(
    name="escalation",
    help=f"Escalation-risk service: run it, administer it, feed it, retrain it.\n\n{EXIT_CODES_HELP}",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,  # plain tracebacks: they end up in service logs, and locals could hold keys
    context_settings={"help_option_names": ["-h", "--help"]},
)
cli.command()(server.serve)
cli.command()(server.migrate)
cli.add_typer(server.keys, name="keys")
cli.command("import", epilog=EXIT_CODES_HELP)(importing.import_events)
cli.command("export", epilog=EXIT_CODES_HELP)(exporting.export)
cli.command("extract", epilog=EXIT_CODES_HELP)(extracting.extract)
cli.command(epilog=EXIT_CODES_HELP)(maintenance.rederive)
cli.command(context_settings=modelling.PASSTHROUGH)(modelling.train)
cli.command(context_settings=modelling.PASSTHROUGH)(modelling.evaluate)


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic narrates every connection (context impl, plugin set-up) at INFO; readiness probes ask it often.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit status (see ExitCode)."""
    configure_logging()
    try:
        cli(args=argv, prog_name="escalation")
    except SystemExit as stop:
        code = stop.code
        return code if isinstance(code, int) else (0 if code is None else int(ExitCode.FAILED))
    return int(ExitCode.OK)

