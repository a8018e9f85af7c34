from __future__ import annotations

import pytest

from lmrec.profiles import HistoryEntry, ProfileEdits, build_profile, category_weights

CATALOG = {
    "a": ("Alien", ["Sci-Fi", "Horror"]),
    "b": ("Brazil", ["Sci-Fi"]),
    "c": ("Casablanca", ["Romance"]),
}


def test_category_weights_decay_with_age() -> None:
    # oldest first: a (age 2), b (age 1), c (age 0); half-life 1 action
    w = category_weights([["Sci-Fi", "Horror"], ["Sci-Fi"], ["Romance"]], half_life=1.0)
    assert w == pytest.approx({"Sci-Fi": 0.25 / 2 + 0.5, "Horror": 0.25 / 2, "Romance": 1.0})
    assert category_weights([["X"], ["X"]], half_life=None) == {"X": 2.0}


def test_profile_shows_interests_favourites_activity_and_edits() -> None:
    history = [
        HistoryEntry("a", 0.0, value=5.0),
        HistoryEntry("b", 86400.0, value=3.0),
        HistoryEntry("c", 2 * 86400.0, value=5.0),
        HistoryEntry("b", 3 * 86400.0, type="not_interested"),
    ]
    edits = ProfileEdits().change(mute=["Horror"], remove=["c"])
    prof = build_profile("u", history, CATALOG, edits, known=True, half_life=None)
    interests = {c["category"]: c for c in prof["interests"]}
    assert set(interests) == {"Sci-Fi", "Horror"}  # c removed: no Romance
    assert interests["Sci-Fi"]["share"] == pytest.approx(1.5 / 2)
    assert interests["Horror"]["muted"] is True
    assert [f["item_id"] for f in prof["favourites"]] == ["a", "b"]  # by rating, c removed
    assert prof["activity"] == {
        "interactions": 3, "by_type": {"interaction": 3, "not_interested": 1},
        "first_seen": 0.0, "last_seen": 2 * 86400.0, "active_days": 3,
    }  # fmt: skip
    assert prof["not_interested"] == ["b"]
    assert prof["edits"] == {
        "muted_categories": ["Horror"],
        "removed_items": ["c"],
        "variety": None,
    }
    back = edits.change(unmute=["Horror"], restore=["c"])
    assert back.empty
    assert ProfileEdits.from_json(edits.to_json()) == edits
