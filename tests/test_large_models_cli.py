"""The large-model paths from the command line: query requests, cold-start protocol, and the
packaged sentence encoder loaded offline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from lmrec.data import split_loo, synthetic_dataset


def test_query_search_and_blend(
    tmp_path: Path,
    cli,  # type: ignore[no-untyped-def]
) -> None:
    split_loo(synthetic_dataset(n_users=60, n_items=80, seed=1)).save(tmp_path / "split")
    code, _, err = cli(
        *[
            "train",
            str(tmp_path / "split"),
            "--models",
            "content",
            "--out",
            str(tmp_path / "art"),
            "--param",
            'content.text_encoder="hashing"',
        ]
    )
    assert code == 0, err
    code, out, err = cli(
        *[
            "recommend",
            str(tmp_path / "art"),
            "--query",
            "haunted cabin curse",
            "--text-encoder",
            "hashing",
            "--k",
            "5",
            "--json",
        ]
    )
    assert code == 0, err
    res = json.loads(out)
    assert res["fallback"] is None
    assert len(res["items"]) == 5
    # every item says why: the request (no user, so no history)
    assert {i["reason"] for i in res["items"]} == {"matches your request 'haunted cabin curse'"}
    # semantic search: the top results are horror titles
    items = pl.read_parquet(tmp_path / "art" / "items.parquet")
    top = items.filter(pl.col("item_id") == res["items"][0]["item_id"])
    assert "horror" in top["categories"].item().to_list()  # search by meaning of the request
    code, out, err = cli(
        *[
            "recommend",
            str(tmp_path / "art"),
            "--user",
            "u3",
            "--query",
            "space robots",
            "--text-encoder",
            "hashing",
            "--json",
        ]
    )
    assert code == 0, err
    reasons = {i["reason"] for i in json.loads(out)["items"]}
    assert reasons == {"matches your request 'space robots' and your history"}
    code, _, err = cli(*["recommend", str(tmp_path / "art")])
    assert code == 2
    assert "give --user, --query, --cart" in err


def test_cold_items_protocol(
    tmp_path: Path,
    cli,  # type: ignore[no-untyped-def]
) -> None:
    split_loo(synthetic_dataset(n_users=150, n_items=120, seed=2)).save(tmp_path / "split")
    code, _out, err = cli(
        *[
            "evaluate",
            "--split",
            str(tmp_path / "split"),
            "--models",
            "pop,content",
            "--param",
            'content.text_encoder="hashing"',
            "--cold-items",
            "0.2",
            "--no-tune",
            "--no-progress",
            "--n-boot",
            "50",
            "--out",
            str(tmp_path / "r"),
        ]
    )
    assert code == 0, err
    cold = json.loads((tmp_path / "r" / "report.json").read_text())["cold_start"]
    assert cold["items_removed"] == 24
    assert cold["test_cases"] > 0
    pop = cold["models"]["pop"]["Recall@20"]["mean"]
    content = cold["models"]["content"]["Recall@20"]["mean"]
    assert pop == 0.0  # popularity cannot rank what nobody has seen above what people have
    assert content > pop
    code, _, err = cli(
        *[
            "evaluate",
            "--split",
            str(tmp_path / "split"),
            "--models",
            "pop",
            "--cold-items",
            "1.5",
            "--out",
            str(tmp_path / "r2"),
        ]
    )
    assert code == 2
    assert "--cold-items must be between 0 and 1" in err


def test_packaged_minilm_loads_offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("LMREC_CACHE", str(tmp_path))
    from lmrec.text import encode_items

    texts = [
        "a space adventure with robots",
        "robots travel through the galaxy",
        "a romantic comedy about a wedding",
    ]
    emb = encode_items(texts)
    assert emb.shape == (3, 384)
    assert emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    assert emb[0] @ emb[1] > emb[0] @ emb[2]  # meaning, not just words
    assert list(tmp_path.glob("embeddings/*.safetensors"))  # cached
    np.testing.assert_allclose(encode_items(texts), emb)
