"""``lmrec evaluate --task basket`` and ``lmrec recommend --cart`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def basket_ds(cli, basket_file: Path, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    ds = tmp_path / "ds"
    code, _, err = cli("data", "import", basket_file, "--format", "baskets", "--out", ds)
    assert code == 0, err
    return ds


def test_evaluate_basket_task(cli, basket_ds: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "r"
    code, stdout, err = cli(
        "evaluate", "--task", "basket", "--dataset", basket_ds, "--models", "pop,rules",
        "--out", out, "--no-progress", "--n-boot", "50", "--text-encoder", "hashing",
    )  # fmt: skip
    assert code == 0, err
    assert "held-out baskets" in stdout
    report = json.loads((out / "report.json").read_text())
    assert report["task"] == "basket"
    assert set(report["models"]) == {"pop", "rules"}
    for label in ("HR@10", "NDCG@10", "MRR@10", "Coverage@10"):
        assert label in report["models"]["rules"]["metrics"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--models", "als"], "cannot complete a cart"),
        (["--models", "pop", "--task", "nosuch"], "Invalid value for '--task'"),
    ],
)
def test_evaluate_basket_errors(cli, basket_ds: Path, tmp_path: Path, extra, message) -> None:  # type: ignore[no-untyped-def]
    args = ["evaluate", "--task", "basket", "--dataset", basket_ds, "--out", tmp_path / "r"]
    code, _, err = cli(*args, *extra, "--no-progress")
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_basket_task_needs_a_dataset(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    split = tmp_path / "s"
    split.mkdir()
    (split / "split.json").write_text("{}")
    code, _, err = cli("evaluate", "--task", "basket", "--split", split, "--models", "pop",
                       "--out", tmp_path / "r")  # fmt: skip
    assert code == 2
    assert "needs --dataset" in err


def test_recommend_cart(cli, basket_ds: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    art = tmp_path / "art"
    code, _, err = cli("train", basket_ds, "--models", "rules,als", "--out", art)
    assert code == 0, err
    base = ["recommend", art, "--model", "rules", "--text-encoder", "hashing"]
    code, out, err = cli(*base, "--cart", "sausage,buns", "--k", "3", "--json")
    assert code == 0, err
    rec = json.loads(out)
    assert rec["cart"] == ["sausage", "buns"]
    ids = [r["item_id"] for r in rec["items"]]
    assert not {"sausage", "buns"} & set(ids)
    assert ids[0] in {"beer", "mustard", "water"}  # barbecue complements (or the staple)
    assert all(r["reason"].startswith("with ") for r in rec["items"])
    code, out, err = cli(*base, "--cart", "milk")
    assert code == 0, err
    assert "rules for cart milk" in out
    for args, message in [
        (["--cart", " , "], "--cart is empty"),
        (["--cart", "milk,caviar"], "unknown item id(s): 'caviar'"),
        (["--cart", "milk", "--query", "x"], "not both"),
    ]:
        code, _, err = cli(*base, *args)
        assert code == 2, args
        assert message in err
    code, _, err = cli("recommend", art, "--model", "als", "--cart", "milk",
                       "--text-encoder", "hashing")  # fmt: skip
    assert code == 2
    assert "cannot score a cart" in err
