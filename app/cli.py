"""The `escalation` command: serve, migrate, keys, import, train, evaluate."""

import argparse
import ipaddress
import logging
import sys
from itertools import islice
from pathlib import Path

from app.config import Settings, get_settings

log = logging.getLogger("escalation")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _sessions(settings: Settings):
    """Write sessions on a database at the migrations' head: the embedded one is migrated here."""
    from app import migrate
    from app.database import make_engine, make_sessionmaker

    url = settings.resolved_database_url
    if settings.is_embedded and settings.auto_migrate:
        migrate.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        at_head = migrate.head_check(conn)["ok"]
    if not at_head:
        raise SystemExit(f"the database at {engine.url!r} is not at the migrations' head: run `escalation migrate`")
    return make_sessionmaker(engine, writer=True)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from app.auth.service import KeyRing

    settings = settings.model_copy(update={"host": args.host, "port": args.port})
    secret = settings.bootstrap_api_key.get_secret_value() if settings.bootstrap_api_key else None
    if KeyRing(_sessions(settings), secret).open and not _is_loopback(args.host):
        print(f"refusing to serve on {args.host} with no API key: create one with `escalation keys create`"
              " or set ESCALATION_BOOTSTRAP_API_KEY, or bind to 127.0.0.1", file=sys.stderr)
        return 2
    from app.main import create_app

    from app.server import uvicorn_options

    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=settings.log_level,
                workers=1, access_log=False, **uvicorn_options(settings))
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from app import migrate

    if args.revision.startswith("-") or args.downgrade:
        migrate.downgrade(settings.resolved_database_url, args.revision)
    else:
        migrate.upgrade(settings.resolved_database_url, args.revision)
    print(f"database at {args.revision}")
    return 0


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    from app.auth import service

    with _sessions(settings).begin() as session:
        if args.keys_command == "create":
            key, plaintext = service.create(session, args.name, args.scopes.split(","))
            print(f"created key {key.prefix} ({key.scopes}); shown once, store it now:\n{plaintext}")
        elif args.keys_command == "revoke":
            if not service.revoke(session, args.prefix):
                print(f"no active key {args.prefix}", file=sys.stderr)
                return 1
            print(f"revoked {args.prefix}")
        else:
            for k in service.active(session):
                print(f"{k.prefix}\t{k.name}\t{k.scopes}\t{k.created_at:%Y-%m-%d}")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from pydantic import ValidationError

    from app.events import service as event_service
    from app.events.schemas import EventCreate
    from app.importers import registry
    from app.ml.scorer import load_scorer
    from app.risk import service as risk_service

    if args.format not in registry.FORMATS:
        print(f"unknown import format {args.format!r}; known: {sorted(registry.FORMATS)}", file=sys.stderr)
        return 2
    if not Path(args.path).exists():  # a file, or a folder of files (gdelt)
        print(f"no such file: {args.path}", file=sys.stderr)
        return 2
    scorer = load_scorer(settings.model_dir)
    factory = _sessions(settings)
    result = registry.load(args.format, Path(args.path))
    rows = iter(result)
    total = 0
    while chunk := list(islice(rows, args.batch_size)):
        try:
            items = [EventCreate.model_validate(r) for r in chunk]
        except ValidationError as exc:  # importers yield only valid rows; this guards a broken one
            print(f"invalid row in batch after {total} events: {exc.errors()[0]}", file=sys.stderr)
            return 1
        # One transaction per batch: its events and their assessments commit together.
        with factory.begin() as session:
            results = event_service.ingest(session, items)
            assessed = risk_service.reassess(session, scorer, results)
        total += len(items)
        print(f"{total} events stored, {assessed} assessments in the last batch", flush=True)
    print(f"imported {result.imported} events; skipped {sum(result.skipped.values())}: {dict(result.skipped)}")
    return 0


def _passthrough(module: str):
    """Hand the remaining arguments to the module's own parser (`escalation train --data-dir D`)."""

    def run(args: argparse.Namespace, _settings: Settings) -> int:
        import importlib

        rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
        return importlib.import_module(module).main(rest)

    return run


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="escalation", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the HTTP service (migrates the embedded SQLite database first)")
    s.add_argument("--host", default=get_settings().host)
    s.add_argument("--port", type=int, default=get_settings().port)
    s.set_defaults(run=cmd_serve)
    m = sub.add_parser("migrate", help="apply Alembic migrations (default: to head)")
    m.add_argument("revision", nargs="?", default="head")
    m.add_argument("--downgrade", action="store_true", help="downgrade to the revision instead")
    m.set_defaults(run=cmd_migrate)
    k = sub.add_parser("keys", help="manage API keys")
    ks = k.add_subparsers(dest="keys_command", required=True)
    kc = ks.add_parser("create")
    kc.add_argument("--name", required=True)
    kc.add_argument("--scopes", default="read", help="comma-separated: ingest,read,admin")
    kr = ks.add_parser("revoke")
    kr.add_argument("prefix")
    ks.add_parser("list")
    k.set_defaults(run=cmd_keys)
    i = sub.add_parser("import", help="import events from a file (acled, gdelt, jsonl, mie, ucdp_ged)")
    i.add_argument("format")
    i.add_argument("path")
    i.add_argument("--batch-size", type=int, default=1000)
    i.set_defaults(run=cmd_import)
    for name, module in (("train", "app.ml.train"), ("evaluate", "app.ml.evaluate")):
        t = sub.add_parser(name, help=f"{name} the escalation model (options: escalation {name} --help)",
                           add_help=False)
        t.set_defaults(run=_passthrough(module), passthrough=True)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)  # readiness probes ask it often
    p = parser()
    args, rest = p.parse_known_args(argv)
    if rest and not getattr(args, "passthrough", False):
        p.error(f"unrecognized arguments: {' '.join(rest)}")
    args.rest = rest
    return args.run(args, get_settings())


if __name__ == "__main__":
    sys.exit(main())
