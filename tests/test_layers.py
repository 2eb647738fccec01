"""Imports point one way: base <- tables <- storage <- events <- importers <- ml <- webhooks <- risk <- routers,
flows, CLI, main.

Read from the source with `ast` (imports inside functions count too), so a violation fails here
before it becomes a cycle. `auth` and `health` are small domains beside `events`: they lean on
the base and storage only. The tables are each domain's `models` module (ORM classes on the base's metadata);
storage (app.storage) holds the SQL and may read every table, and the domains reach the database through it.
The storage modules that define the engine, the bulk writes and the watchdog need no table: they are base.
"""

import ast
from pathlib import Path

import pytest

from app.config import REPO_ROOT

APP = REPO_ROOT / "app"
BASE = {"config", "errors", "database", "observability", "http", "countries", "migrate", "memory", "logs", "tracing"}
STORAGE_BASE = {"engine", "bulk", "watchdog"}  # app.storage modules that read no table
TABLES, STORAGE = 1, 2
# The rank of each domain package; a module may import its own package and lower ranks only.
# webhooks sits below risk: risk writes its assessments' deliveries into the webhooks outbox.
DOMAINS = {"events": 3, "auth": 3, "health": 3, "importers": 4, "ml": 5, "webhooks": 6, "risk": 7}
TOP = 8  # routers, flows, cli, main, and the wiring that sees every domain (dependencies, models)


def _name(path: Path, root: Path) -> str:
    return ".".join(path.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path) -> set[str]:
    """Every `app.…` module the file imports (`from app import x` counts as `app.x`)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("app."))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "app":
                out.update(f"app.{a.name}" for a in node.names)
            elif node.module.startswith("app."):
                out.add(node.module)
    return out


def _place(module: str) -> tuple[int, str]:
    """(rank, package) of a module under app."""
    parts = module.split(".")[1:]
    if not parts:
        return 0, ""
    if parts[0] in BASE or (parts[0] == "storage" and (len(parts) == 1 or parts[1] in STORAGE_BASE)):
        return 0, parts[0]
    if parts[0] == "storage":
        return STORAGE, "storage"
    if parts[0] in DOMAINS and parts[-1] == "models":
        return TABLES, "tables"  # one rank for every domain's tables: they may refer to each other's
    if parts[0] in DOMAINS:
        if parts[-1] == "router":
            return TOP, parts[0]
        return DOMAINS[parts[0]], parts[0]
    return TOP, parts[0]


def violations(root: Path = APP) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        module = _name(path, root)
        rank, package = _place(module)
        for target in sorted(_imports(path)):
            their_rank, their_package = _place(target)
            if target.split(".")[-1] == "router" and rank < TOP:
                found.append(f"{module} imports the router {target}: services never import routers")
            elif their_rank > rank or (their_rank == rank and rank not in (0, TOP) and their_package != package):
                found.append(f"{module} (layer {rank}) imports {target} (layer {their_rank})")
    return found


def test_no_module_imports_against_the_layers():
    assert violations() == []


@pytest.mark.parametrize(("module", "source"), [
    ("errors", "from app.events.schemas import EventCreate"),
    ("events/history", "from app.ml import features"),
    ("events/dyads", "from app.risk import service"),
    ("events/service", "import app.importers.registry"),
    ("ml/scorer", "from app import risk"),
    ("importers/gdelt", "from app.ml.features import FEATURE_NAMES"),
    ("risk/service", "from app.events.router import router"),
    ("auth/service", "from app.events import dyads"),
    ("config", "def f():\n    from app.auth import service"),
])
def test_the_check_catches_an_import_against_the_layers(tmp_path, module, source):
    fake = tmp_path / "app" / f"{module}.py"
    fake.parent.mkdir(parents=True, exist_ok=True)
    fake.write_text(source + "\n")
    assert len(violations(tmp_path / "app")) == 1


def test_routers_flows_and_the_cli_may_reach_across_domains(tmp_path):
    fake = tmp_path / "app" / "events" / "router.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from app.risk import service\nfrom app.ml.scorer import Scorer\n")
    (tmp_path / "app" / "cli.py").write_text("from app.risk import service\nfrom app.events.router import router\n")
    assert violations(tmp_path / "app") == []
