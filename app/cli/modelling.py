"""`escalation train` and `evaluate`: the model's own commands, with a progress bar over training's steps."""

import importlib
import io
import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from app.cli import progress
from app.cli.common import ExitCode, err

PASSTHROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}
DataDir = Annotated[Path | None, typer.Option(help="the shared data folder (default ../shared/data)")]
ModelDir = Annotated[Path | None, typer.Option(help="where the model lives (default ./models)")]
# Training logs each step as "[  12.3s] message"; each such line advances the bar.
STEP = re.compile(r"^\[\s*\d+(\.\d+)?s\]\s*(.*)")


def _argv(ctx: typer.Context, data_dir: Path | None, model_dir: Path | None) -> list[str]:
    argv = [] if data_dir is None else ["--data-dir", str(data_dir)]
    argv += [] if model_dir is None else ["--model-dir", str(model_dir)]
    return argv + [a for a in ctx.args if a != "--"]


def _expected_steps(argv: list[str]) -> int:
    """Training's log lines: context, samples (one per source), one per model family and target, save.

    An estimate for the bar's ETA: the bar grows if training logs more steps than this.
    """
    from app.ml import dataset, labels

    families = 1 if "additive" in argv else 2
    return 3 + len(getattr(dataset, "SOURCES", ())) + families * len(getattr(labels, "TARGETS", ()))


class _StepStream(io.TextIOBase):
    """Stands in for stdout while training runs: step lines move the bar, everything else is printed above it."""

    def __init__(self, bar, task):
        self.bar, self.task, self.pending = bar, task, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            step = STEP.match(line)
            if step:
                self.bar.update(self.task, advance=1, description=step.group(2)[:60])
                total = self.bar.tasks[0].total or 0
                if self.bar.tasks[0].completed >= total:  # more steps than expected: keep the bar honest
                    self.bar.update(self.task, total=self.bar.tasks[0].completed + 1)
            self.bar.console.print(line, markup=False, highlight=False)
        return len(text)


def train(
    ctx: typer.Context,
    data_dir: DataDir = None,
    model_dir: ModelDir = None,
) -> None:
    """Rebuild models/ from the real data, with a progress bar over its steps.

    Other options are handed to `python -m app.ml.train` (see `escalation train -- --help`).
    """
    from app.ml import train as training

    argv = _argv(ctx, data_dir, model_dir)
    if {"-h", "--help"} & set(argv):
        raise typer.Exit(training.main(argv))
    bar = progress.bar("steps", per_minute=True)
    task = bar.add_task("training", total=_expected_steps(argv))
    stdout = sys.stdout
    with bar:
        sys.stdout = _StepStream(bar, task)
        try:
            code = training.main(argv)
        finally:
            sys.stdout = stdout
        if code == 0:
            bar.update(task, completed=bar.tasks[0].total, description="trained")
    if code:
        raise typer.Exit(int(ExitCode.FAILED if code != ExitCode.USAGE else ExitCode.USAGE))


def evaluate(
    ctx: typer.Context,
    data_dir: DataDir = None,
    model_dir: ModelDir = None,
) -> None:
    """Print the bundled model's metrics on the out-of-time test periods.

    Other options are handed to `python -m app.ml.evaluate`.
    """
    code = importlib.import_module("app.ml.evaluate").main(_argv(ctx, data_dir, model_dir))
    if code:
        err.print("evaluation failed", style="red")
        raise typer.Exit(int(ExitCode.FAILED if code != ExitCode.USAGE else ExitCode.USAGE))
