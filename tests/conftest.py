from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import numpy as np
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


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[int, str, str]]:
    """Run ``lmrec ARGS...`` in-process through ``main()``: (exit code, stdout, stderr)."""
    from lmrec.cli import main

    def run(*args: object) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["lmrec", *map(str, args)])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def basket_file(tmp_path: Path) -> Path:
    """Two kinds of shopper: breakfast (milk, cereal, juice, coffee) and barbecue (sausage,
    buns, beer, mustard), a staple (water) in half the baskets, some one-item baskets."""
    rng = np.random.default_rng(0)
    kinds = [["milk", "cereal", "juice", "coffee"], ["sausage", "buns", "beer", "mustard"]]
    lines = []
    for _ in range(300):
        kind = kinds[int(rng.integers(2))]
        basket = list(rng.choice(kind, size=int(rng.integers(1, 4)), replace=False))
        if rng.random() < 0.5:
            basket.append("water")
        lines.append(",".join(basket))
    path = tmp_path / "baskets.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A real PostgreSQL server for the session (Debian's package; .ci/run installs it)."""
    from lmrec.testing.postgres import find_postgres_bin, temporary_postgres

    bin_dir = find_postgres_bin()
    if bin_dir is None:
        if os.environ.get("LMREC_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is not installed (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with temporary_postgres(bin_dir) as url:
        yield url


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty database on the session's server."""
    import psycopg

    name = f"t{uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    return pg_server.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(autouse=True, scope="session")
def _secret_key_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One store secret for the session, outside the working folder (a PostgreSQL store's
    default secret would be made there)."""
    from lmrec.service.vault import SECRET_ENV

    old = os.environ.get(SECRET_ENV)
    os.environ[SECRET_ENV] = str(tmp_path_factory.mktemp("secret") / "store.secret")
    yield
    if old is None:
        os.environ.pop(SECRET_ENV, None)
    else:
        os.environ[SECRET_ENV] = old
