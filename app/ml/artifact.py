"""Saving and loading the bundled model: skops file + JSON card, verified by SHA-256 and library version.

Never pickle or joblib: skops loads only the explicit `TRUSTED` types below.
"""

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import sklearn
import skops.io as sio

ARTIFACT = "escalation.skops"
CARD = "escalation.card.json"
CONTEXT = "context.json"

# Every non-builtin type inside the artifact; skops refuses anything else.
# The shipped model is plain arrays in one class of this project's (app.ml.risk_model): no scikit-learn
# internals are read at load, so a library upgrade cannot change what a loaded model computes.
TRUSTED: list[str] = [
    "app.ml.risk_model.AdditiveRisk",
]


class ArtifactError(RuntimeError):
    """The model files are missing, tampered with, or made by other library versions."""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save(models: dict[str, Any], card: dict, model_dir: Path) -> dict:
    """Write the artifact, record its hash (and the context table's) in the card, write the card."""
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / ARTIFACT
    sio.dump(models, path, compression=zipfile.ZIP_DEFLATED, compresslevel=9)  # the tree JSON compresses ~7x
    untrusted = set(sio.get_untrusted_types(file=path)) - set(TRUSTED)
    if untrusted:
        raise ArtifactError(f"artifact holds types missing from TRUSTED: {sorted(untrusted)}")
    card["artifact"] = {"file": ARTIFACT, "sha256": sha256(path), "bytes": path.stat().st_size}
    card["context_table"] = {"file": CONTEXT, "sha256": sha256(model_dir / CONTEXT)}
    card["version"] = f"{card['trained_on']}-{card['artifact']['sha256'][:8]}"
    (model_dir / CARD).write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")
    return card


def _checked_bytes(model_dir: Path, entry: dict) -> bytes:
    """The file's bytes, read once and hashed, so what is loaded is exactly what was checked."""
    path = model_dir / entry["file"]
    if not path.is_file():
        raise ArtifactError(f"missing model file {path}")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise ArtifactError(f"{path.name} does not match the SHA-256 in its card: tampered or replaced")
    return data


def load(model_dir: Path) -> tuple[dict[str, Any], dict, dict]:
    """The per-target estimators, the card and the context table, after checking hashes and versions."""
    card_path = model_dir / CARD
    if not card_path.is_file():
        raise ArtifactError(f"missing model card {card_path}")
    try:
        card = json.loads(card_path.read_text())
        wanted = card["libraries"]["scikit-learn"]
        artifact, context = card["artifact"], card["context_table"]
    except (ValueError, KeyError) as exc:
        raise ArtifactError(f"unreadable model card {card_path}: {exc}") from exc
    if wanted != sklearn.__version__:
        raise ArtifactError(f"model built with scikit-learn {wanted}, running {sklearn.__version__}")
    table = json.loads(_checked_bytes(model_dir, context))
    data = _checked_bytes(model_dir, artifact)
    try:
        models = sio.loads(data, trusted=TRUSTED)
    except Exception as exc:  # skops raises several types for untrusted or corrupt content
        raise ArtifactError(f"cannot load {artifact['file']}: {exc}") from exc
    if set(models) != set(card["targets"]):
        raise ArtifactError(f"artifact targets {sorted(models)} differ from card targets {card['targets']}")
    return models, card, table
