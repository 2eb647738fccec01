"""`escalation rederive`: stored events linked again under today's dyad rules, the dyads they left and joined
re-assessed, a batch per transaction."""

from typing import Annotated

import typer

from app.cli.common import ExitCode, err, fail, interrupts, out, sessions, settings


def rederive(
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="events per transaction")] = 1000,
) -> None:
    """Link stored events to their dyads again under today's rules, and re-assess what changed.

    Run it after an upgrade that changes which dyads an event affects (the release notes say so). Only
    events of a state acting outside its own country can change; each batch commits on its own, so an
    interrupted run is finished by running it again.
    """
    from sqlalchemy.exc import OperationalError

    from app.events import service as event_service
    from app.events.history import WindowCache
    from app.ml.scorer import load_scorer
    from app.risk import flow

    current = settings()
    examined = relinked = assessed = 0
    after = 0
    try:
        with interrupts() as interrupt:  # Ctrl-C or SIGTERM: at once while the model loads, else between batches
            scorer = load_scorer(current.model_dir)
            factory = sessions(current)
            window_cache = WindowCache(check=current.check_fast_paths)
            while True:
                with interrupt.holding():
                    with factory() as session:
                        ids = event_service.relink_candidates(session, after, batch_size)
                    if not ids:
                        break
                    with factory.begin() as session:
                        written = flow.relink(session, scorer, ids, window_cache=window_cache)
                    examined, after = examined + len(ids), ids[-1]
                    relinked, assessed = relinked + len(written.results), assessed + written.assessed
                interrupt.stop_if_asked()
    except OperationalError as exc:
        raise fail(f"database error after {examined:,} events (the batches before it are committed): {exc.orig}. "
                   "Run it again to go on", ExitCode.DATABASE) from None
    except KeyboardInterrupt:
        raise fail(f"interrupted after {examined:,} events, which are committed", ExitCode.INTERRUPTED) from None
    out.print(f"examined {examined:,} events; relinked {relinked:,}; assessments written {assessed:,}",
              highlight=False)
    if not relinked:
        err.print("every stored event is linked as today's rules link it", highlight=False)
