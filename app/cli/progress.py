"""Rich progress bars for long commands: count, rate and ETA, drawn on stderr."""

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from app.cli.common import err


class RateColumn(ProgressColumn):
    """Items per second, in the unit the task names (`rows/s`, `steps/min`)."""

    def __init__(self, unit: str, per_minute: bool = False):
        super().__init__()
        self.unit, self.per_minute = unit, per_minute

    def render(self, task: Task) -> Text:
        per = "min" if self.per_minute else "s"
        # Rich's windowed speed while running; the run's average once done (short runs have no window).
        speed = task.finished_speed or task.speed
        if task.finished or not speed:
            speed = task.completed / task.elapsed if task.elapsed else None
        if not speed:
            return Text(f"– {self.unit}/{per}", style="progress.data.speed")
        rate = speed * (60 if self.per_minute else 1)
        return Text(f"{rate:,.1f} {self.unit}/{per}" if rate < 10 else f"{rate:,.0f} {self.unit}/{per}",
                    style="progress.data.speed")


def bar(unit: str, per_minute: bool = False) -> Progress:
    """A bar on a terminal; nothing when stderr is a file or a pipe (a log gets the command's summary instead)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(unit, per_minute),
        TextColumn("elapsed"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal,
    )
