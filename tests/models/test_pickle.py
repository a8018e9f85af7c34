"""Models survive an in-memory pickle round trip (multiprocessing needs it). Files users load
are safetensors + JSON, checked by the contract's save/load test; this stays out of src/."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from lmrec.models.registry import create_model
from lmrec.testing import checkerboard

SMALL = {
    "pop": {},
    "itemknn": {"k": 10},
    "ease": {"reg": 5.0},
    "als": {"embedding_size": 4, "epochs": 3},
    "bpr": {"embedding_size": 4, "epochs": 5},
    "content": {"text_encoder": "hashing"},
    "sequential": {"text_encoder": None, "epochs": 2, "max_len": 16, "embedding_size": 16},
    "hybrid": {
        "components": ["ease", "itemknn"],
        "candidates": 5,
        "n_estimators": 10,
        "min_child_samples": 5,
    },
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_pickle_round_trip(name: str) -> None:
    model = create_model(name, **SMALL[name]).fit(checkerboard())
    clone = pickle.loads(pickle.dumps(model))
    users = np.arange(20)
    np.testing.assert_allclose(clone.score(users), model.score(users), rtol=1e-5, atol=1e-6)
