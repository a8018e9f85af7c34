from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
ML100K = SHARED / "ml-100k"
GROCERIES = SHARED / "groceries" / "groceries.csv"


@pytest.fixture(scope="session")
def ml100k() -> Path:
    if not (ML100K / "u.data").is_file():
        pytest.skip("MovieLens 100K not found in ../shared/data")
    return ML100K


@pytest.fixture(scope="session")
def groceries() -> Path:
    if not GROCERIES.is_file():
        pytest.skip("Groceries not found in ../shared/data")
    return GROCERIES
