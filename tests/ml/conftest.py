"""Fixtures for the model tests: the shared data directory (the scorer comes from tests/conftest.py)."""

from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA_DIR / "mie-1.0").is_dir():
        pytest.skip("../shared/data is absent")
    return DATA_DIR
