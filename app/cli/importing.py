"""`escalation import`: a file (or standard input) into the service's database, with progress and a summary."""

import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from app.cli import progress
from app.cli.common import ExitCode, Interrupts, err, fail, interrupts, out, sessions, settings

FORMATS_HELP = "acled | gdelt | jsonl | mie | ucdp_ged"


@contextmanager
def _source(path: str) -> Iterator[Path]:
    """The path itself, or standard input spooled to a temporary file (importers read files by path)."""
    if path != "-":
        yield Path(path)
        return
    with tempfile.TemporaryDirectory(prefix="escalation-import-") as folder:
        spooled = Path(folder) / "stdin.csv"  # gdelt reads *.csv when given a folder; a file is read as is
        with open(spooled, "wb") as handle:
            shutil.copyfileobj(sys.stdin.buffer, handle)
        yield spooled


def _estimated_rows(path: Path) -> int | None:
    """Lines in the file(s): the bar's total, a close estimate of the rows (CSV headers, quoted newlines)."""
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    lines = 0
    for file in files:
        with open(file, "rb") as handle:
            while block := handle.read(1 << 20):
                lines += block.count(b"\n")
    return lines or None


def _tracked(result, bar, task) -> Iterator[dict]:
    for row in result:
        bar.update(task, completed=result.imported + sum(result.skipped.values()))
        yield row
    done = result.imported + sum(result.skipped.values())
    bar.update(task, completed=done, total=done)


def _skipped_table(result, title: str = "skipped rows by reason") -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("reason")
    table.add_column("rows", justify="right")
    table.add_column("first example", overflow="fold")
    for reason, n in result.skipped.most_common():
        table.add_row(reason, f"{n:,}", result.examples.get(reason, ""))
    return table


def _summary(counts: Counter, result, assessments: int) -> Table:
    table = Table(title="import summary", title_justify="left")
    table.add_column("outcome")
    table.add_column("events", justify="right")
    for status in ("created", "unchanged", "revised"):
        table.add_row(status, f"{counts[status]:,}")
    table.add_row("skipped", f"{sum(result.skipped.values()):,}", style="yellow" if result.skipped else None)
    table.add_section()
    table.add_row("assessments written", f"{assessments:,}")
    return table


def _dry_run(result, bar, task, show: int) -> None:
    for _ in _tracked(result, bar, task):
        pass
    bar.stop()
    skipped = sum(result.skipped.values())
    out.print(f"dry run: {result.imported:,} rows valid, {skipped:,} would be skipped; nothing written",
              highlight=False)
    if result.rejected and show:
        table = Table(title=f"first {min(show, len(result.rejected))} rows left out", title_justify="left")
        table.add_column("where / why", overflow="fold")
        table.add_column("reason")
        for row in result.rejected[:show]:
            table.add_row(row.detail, row.reason)
        out.print(table)
    if result.skipped:
        out.print(_skipped_table(result, "rows that would be skipped, by reason"))
    _require_some(result)


def _require_some(result) -> None:
    """A file whose rows all fail is a failed import (exit 3), not an empty success, whether dry or not."""
    if result.imported == 0:
        reasons = ", ".join(f"{n:,} {reason}" for reason, n in result.skipped.most_common(3))
        raise fail(f"no event in this file could be imported ({reasons or 'no rows'})", ExitCode.INVALID_INPUT)


def import_events(
    format: Annotated[str, typer.Argument(help=FORMATS_HELP, show_default=False)],
    path: Annotated[str, typer.Argument(help="a file, a folder of GDELT exports, or - for standard input")],
    batch_size: Annotated[int, typer.Option(min=1, max=100_000, help="events per transaction")] = 1000,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="validate only: write nothing, list the first rows "
                                          "left out with their reasons; exits as the import would (3 if no row "
                                          "could be imported)")] = False,
    show: Annotated[int, typer.Option(min=0, help="how many bad rows --dry-run lists")] = 10,
) -> None:
    """Import events from a file: each batch is stored and assessed in one transaction.

    The file is checked first: one that is not text, or not in the format named, is refused (exit 3) with the
    format it looks like. Rows a format cannot use are skipped and counted by reason; the summary lists them with
    a first example each. A file none of whose rows can be imported fails (exit 3).
    Re-importing a file is idempotent (unchanged events are recognised).
    """
    from app.importers import registry

    if format not in registry.FORMATS:
        raise fail(f"unknown import format {format!r}; known: {FORMATS_HELP}", ExitCode.USAGE)
    if path != "-" and not Path(path).exists():
        raise fail(f"no such file: {path}", ExitCode.USAGE)
    with _source(path) as source:
        try:  # before the model loads: a file of another format, or not text, is refused at once
            registry.check(format, source)
        except registry.FormatError as exc:
            raise fail(str(exc), ExitCode.INVALID_INPUT) from None
        bar = progress.bar("rows")
        task = bar.add_task("validating" if dry_run else "importing", total=_estimated_rows(source))
        if dry_run:
            with bar:
                try:
                    _dry_run(registry.load(format, source), bar, task, show)
                except registry.FormatError as exc:  # the file stopped being readable part-way
                    bar.stop()
                    raise fail(f"{exc}; nothing was written", ExitCode.INVALID_INPUT) from None
            return
        reader = Reader(format, source, batch_size)  # reads ahead while the model loads, and while batches commit
        # Ctrl-C or SIGTERM: at once while the model loads or a batch is awaited, else once the batch is committed
        try:
            with interrupts() as interrupt:
                try:
                    target = _target()
                except KeyboardInterrupt:
                    raise fail("interrupted before anything was written", ExitCode.INTERRUPTED) from None
                with bar:
                    _write(reader, bar, task, interrupt, *target)
        finally:
            reader.close()


def _target():
    from app.memory import freeze_startup
    from app.ml.scorer import load_scorer

    current = settings()
    scorer = load_scorer(current.model_dir)
    freeze_startup()  # the model outlives the import, as a server's does (app.memory)
    return scorer, sessions(current)


def _write(result: "Reader", bar, task, interrupt: Interrupts, scorer, factory) -> None:
    from pydantic import TypeAdapter
    from sqlalchemy.exc import OperationalError

    from app import errors
    from app.events.history import WindowCache
    from app.events.schemas import EventCreate
    from app.importers import registry
    from app.memory import map_large_blocks, release_free_memory
    from app.risk import flow

    map_large_blocks()  # as in a server (app.memory)
    # the dyads' windows as this import last assessed them (app.events.history)
    window_cache = WindowCache(check=settings().check_fast_paths)
    events = TypeAdapter(list[EventCreate])
    counts: Counter[str] = Counter()
    assessments = 0

    def stop() -> None:  # the bar ends, and the summary says what is committed (whole: Interrupts.finish)
        interrupt.finish()
        bar.stop()
        out.print(_summary(counts, result, assessments))

    started = time.perf_counter()
    try:
        for batch in result.batches(interrupt.stop_if_asked):  # awaited: a signal stops at once
            with interrupt.holding():  # from here to the batch's commit and count, a signal waits
                bar.update(task, completed=result.read)
                items = _validated(events, batch, counts, stop)
                # One transaction per batch: its events and their assessments commit together.
                try:
                    with factory.begin() as session:
                        written = flow.ingest(session, scorer, items, window_cache=window_cache)
                    assessments += written.assessed
                    release_free_memory()  # as after a write request (app.memory)
                except errors.AppError as exc:
                    stop()
                    raise fail(f"batch after {counts.total():,} events refused (those are committed): {exc.detail}",
                               ExitCode.INVALID_INPUT) from None
                except OperationalError as exc:  # the database went away, or stayed locked past its timeouts
                    stop()
                    raise fail(f"database error after {counts.total():,} events, which are committed: {exc.orig}. "
                               "Run the same import again to go on: the events already stored are recognised",
                               ExitCode.DATABASE) from None
                counts.update(r.status for r in written.results)
            interrupt.stop_if_asked()
    except KeyboardInterrupt:
        stop()
        raise fail(f"interrupted: the {counts.total():,} events above are committed", ExitCode.INTERRUPTED) from None
    except registry.FormatError as exc:  # the file stopped being readable part-way
        stop()
        raise fail(f"{exc}; the batches before it are committed", ExitCode.INVALID_INPUT) from None
    except typer.Exit:
        raise
    except Exception as exc:  # a failure nobody foresaw: said in one line, with what is committed, never a traceback
        stop()
        raise fail(f"import stopped after {counts.total():,} events, which are committed: {type(exc).__name__}: {exc}",
                   ExitCode.FAILED) from None
    interrupt.finish()  # everything is committed: the summary is printed whole
    seconds = time.perf_counter() - started
    bar.update(task, completed=result.read, total=result.read)
    stop()
    if result.skipped:
        out.print(_skipped_table(result))
    _require_some(result)
    rows_read = result.imported + sum(result.skipped.values())
    err.print(f"imported {result.imported:,} events; skipped {sum(result.skipped.values()):,} in {seconds:.1f} s "
              f"({rows_read / seconds if seconds else 0:,.0f} rows/s)", highlight=False)


def _validated(events, batch: bytes, counts: Counter, stop) -> list:
    """A batch's JSON from the reader, validated in Rust (as a POST /v1/events/batch body is)."""
    from pydantic import ValidationError

    try:
        return events.validate_json(batch)
    except ValidationError as exc:  # importers yield only valid rows; this guards a broken one
        stop()
        raise fail(f"invalid row after {counts.total():,} events, which are committed: {exc.errors()[0]}",
                   ExitCode.INVALID_INPUT) from None


class Reader:
    """The file read, converted and checked in a process of its own, handed over as JSON batches of events: the
    next batches are ready while the model loads and while this process stores one (the two share no interpreter
    lock), and they are validated here as an HTTP batch body is. `imported`, `skipped`, `examples`, `rejected`
    and `read` (rows so far) are the reader's, as of the last batch received.

    A pipe, not a queue: its write end lives only in the reader, so a reader that dies (killed, out of memory) is
    seen at once as the pipe's end, and a full pipe holds the reader back (a few batches ahead at most)."""

    def __init__(self, format_name: str, path: Path, batch_size: int):
        import multiprocessing

        context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of this one's threads or model
        self._pipe, sending = context.Pipe(duplex=False)
        self._process = context.Process(target=_read, args=(format_name, str(path), batch_size, sending),
                                        name="escalation-import-reader", daemon=True)
        self._process.start()
        sending.close()  # the reader's alone: its exit closes the pipe
        self.imported, self.read = 0, 0
        self.skipped: Counter[str] = Counter()
        self.examples: dict[str, str] = {}
        self.rejected: list = []

    def batches(self, check: Callable[[], None] = lambda: None) -> Iterator[bytes]:
        """Each batch as JSON; raises what the reader raised (FormatError for a file that breaks part-way).
        `check()` runs before each batch is read, and every half second while none is ready (standard input from
        a producer that has gone quiet): it raises to stop."""
        from app.importers.registry import FormatError, Skipped

        while True:
            check()
            while not self._pipe.poll(0.5):
                check()
            try:
                kind, body, counts = self._pipe.recv()
            except EOFError:
                self._process.join(timeout=10)
                raise RuntimeError(f"the reader process ended with exit code {self._process.exitcode}") from None
            if counts is not None:
                self.imported, skipped, self.examples, rejected, self.read = counts
                self.skipped = Counter(skipped)
                self.rejected = [Skipped(*r) for r in rejected]
            if kind == "batch":
                yield body
            elif kind == "end":
                return
            elif kind == "format":
                raise FormatError(body)
            else:
                raise RuntimeError(body)

    def close(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=10)
        self._pipe.close()


def _read(format_name: str, path: str, batch_size: int, out) -> None:
    """The reader process: ("batch", JSON, counts) for each `batch_size` events, then ("end", None, counts), or
    ("format" | "error", what went wrong, counts). Counts go with every message, so a command stopped part-way
    still says what was skipped before."""
    import json
    import signal

    from app.importers import registry

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the command's to handle: it stops this process
    result = None

    def counts():
        if result is None:
            return None
        return (result.imported, dict(result.skipped), result.examples,
                [(r.reason, r.detail) for r in result.rejected], result.imported + sum(result.skipped.values()))

    try:
        result = registry.load(format_name, Path(path))
        rows = iter(result)
        while chunk := list(islice(rows, batch_size)):
            out.send(("batch", json.dumps(chunk, default=str).encode(), counts()))
        out.send(("end", None, counts()))
    except registry.FormatError as exc:
        out.send(("format", str(exc), counts()))
    except BrokenPipeError:  # the command is gone: nothing to tell
        return
    except Exception as exc:  # noqa: BLE001 (said by the command, in one line)
        out.send(("error", f"{type(exc).__name__}: {exc}", counts()))
    finally:
        out.close()
