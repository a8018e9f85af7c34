"""``lmrec recommend ART --users all|FILE --out recs.parquet``: every user's list in a file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from lmrec.artifacts import Artifacts
from lmrec.data import synthetic_dataset

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lmrec.artifacts import save_artifacts
    from lmrec.data.interactions import Interactions
    from lmrec.models.registry import create_model

    data = Interactions.from_dataset(synthetic_dataset(n_users=50, n_items=40, seed=5))
    models = {name: create_model(name).fit(data) for name in ("pop", "ease")}
    return save_artifacts(tmp_path_factory.mktemp("batch") / "art", models, data)


def test_every_users_list_equals_the_models_own(cli: Run, artifacts: Path, tmp_path: Path) -> None:
    out = tmp_path / "recs.parquet"
    code, stdout, err = cli(
        "recommend", artifacts, "--model", "ease", "--users", "all", "--k", "5",
        "--batch-size", "7", "--out", out,
    )  # fmt: skip
    assert code == 0, err
    assert "top 5 for 50 users" in stdout
    recs = pl.read_parquet(out)
    assert recs.columns == ["user_id", "item_id", "rank", "score", "reason"]
    assert recs.schema["rank"] == pl.Int32
    assert recs.schema["score"] == pl.Float32
    assert len(recs) == 50 * 5
    art = Artifacts.open(artifacts)
    model = art.model("ease")
    top, scores = model.recommend(np.arange(50), 5)
    for u in (0, 17, 49):
        rows = recs.filter(pl.col("user_id") == art.user_vocab.raw(u)).sort("rank")
        assert rows["rank"].to_list() == [1, 2, 3, 4, 5]
        assert rows["item_id"].to_list() == art.item_vocab.raws(top[u])
        np.testing.assert_allclose(rows["score"].to_numpy(), scores[u], rtol=1e-6)
    assert recs["reason"].str.starts_with("because you").any()
    assert recs["reason"].null_count() == 0


def test_a_file_of_ids_with_unknown_users(cli: Run, artifacts: Path, tmp_path: Path) -> None:
    art = Artifacts.open(artifacts)
    ids = tmp_path / "users.txt"
    ids.write_text(f"{art.user_vocab.raw(3)}\nnobody\n\n{art.user_vocab.raw(3)}\n")
    out = tmp_path / "some.parquet"
    code, stdout, err = cli(
        "recommend", artifacts, "--users", ids, "--k", "3", "--out", out, "--no-reasons"
    )
    assert code == 0, err
    assert "1 unknown: popular items" in stdout
    recs = pl.read_parquet(out)
    assert recs["user_id"].unique().sort().to_list() == sorted([art.user_vocab.raw(3), "nobody"])
    nobody = recs.filter(pl.col("user_id") == "nobody")
    assert nobody["reason"].to_list() == ["popular with everyone"] * 3
    popular = art.model("pop").recommend(np.array([0]), 3, exclude_seen=False)[0][0]
    assert nobody["item_id"].to_list() == art.item_vocab.raws(popular)
    assert recs.filter(pl.col("user_id") != "nobody")["reason"].null_count() == 3
    csv = tmp_path / "users.csv"
    csv.write_text("customer\nu1\n")
    for args, message in [
        (["--users", "all"], "needs both --users"),
        (["--users", tmp_path / "missing.txt", "--out", out], "not found"),
        (["--users", csv, "--out", out], "no user_id column"),
        (["--users", "all", "--out", out, "--user", "u1"], "takes none of"),
        (["--users", "all", "--out", out, "--batch-size", "0"], "at least 1"),
        (["--users", "all", "--out", tmp_path / "recs.csv"], "ending in .parquet"),
        (["--users", "all", "--out", tmp_path], "ending in .parquet"),
    ]:
        code, _, err = cli("recommend", artifacts, *args)
        assert code == 2, (args, err)
        assert message in err
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, _, err = cli("recommend", artifacts, "--users", "all", "--out", blocker / "recs.parquet")
    assert code == 1  # the system refused the path: one line, no traceback
    assert err.startswith("error: ")
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
