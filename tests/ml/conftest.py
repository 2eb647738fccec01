"""Fixtures for the model tests: the bundled scorer and the shared data directory."""

from pathlib import Path

import pytest

from app.ml.scorer import Scorer, load_scorer

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    return load_scorer()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA_DIR / "mie-1.0").is_dir():
        pytest.skip("../shared/data is absent")
    return DATA_DIR
