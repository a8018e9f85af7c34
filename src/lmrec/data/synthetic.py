"""A synthetic dataset with a known structure, for demos and tests where no real data is at hand.

Items belong to categories and have generated titles and descriptions; users have latent tastes
(a Dirichlet mix over categories) and a habit of moving to related items (the next item in the
same category), so both taste models and sequence models have something to learn. Each event has
a timestamp, a device and a location.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from lmrec.data.dataset import Dataset

__all__ = ["synthetic_dataset"]

_CATEGORIES = {
    "science fiction": ["space", "robot", "galaxy", "alien", "starship", "future", "android"],
    "comedy": ["funny", "wedding", "holiday", "roommates", "prank", "awkward", "road trip"],
    "drama": ["family", "loss", "courtroom", "letters", "winter", "redemption", "secrets"],
    "thriller": ["heist", "conspiracy", "chase", "spy", "hostage", "midnight", "double agent"],
    "romance": ["love", "summer", "paris", "letters", "second chance", "dance", "wedding"],
    "documentary": ["ocean", "history", "mountains", "music", "climate", "wildlife", "city"],
    "animation": ["talking animals", "magic", "toys", "dragons", "forest", "friendship", "quest"],
    "horror": ["haunted", "cabin", "curse", "zombie", "night", "ritual", "asylum"],
}
_ADJ = ["Last", "Silent", "Golden", "Broken", "Hidden", "Little", "Endless", "Wild", "Bright"]
_DEVICES = ("mobile", "desktop", "tv")
_LOCATIONS = ("home", "work", "commute", "travel")
#: With ``context_effect``: what people watch on each device.
_DEVICE_CATEGORIES = {
    "mobile": ("comedy", "animation"),
    "desktop": ("thriller", "horror"),
    "tv": ("documentary", "drama", "science fiction"),
}


def synthetic_dataset(
    *,
    n_users: int = 300,
    n_items: int = 400,
    mean_events: int = 40,
    p_next: float = 0.45,
    context_effect: float = 0.0,
    seed: int = 0,
) -> Dataset:
    """Users' time-ordered events over a catalog with text; deterministic given ``seed``.

    ``p_next`` is the chance that a user's next item is the successor of their previous one in the
    same category (the sequential signal); otherwise a category is drawn from the user's taste and
    an item from it by popularity.

    ``context_effect`` (0..1) is the chance that an event's category comes from its device
    instead (mobile: comedy, animation; desktop: thriller, horror; tv: documentary, drama,
    science fiction): a known context effect for measuring context-aware scoring.
    """
    rng = np.random.default_rng(seed)
    cats = list(_CATEGORIES)
    n_cat = len(cats)
    item_cat = rng.integers(0, n_cat, n_items)
    item_pop = rng.zipf(1.6, n_items).clip(1, 200).astype(float)
    by_cat = [np.flatnonzero(item_cat == c) for c in range(n_cat)]
    titles, texts, categories = [], [], []
    for i in range(n_items):
        words = _CATEGORIES[cats[item_cat[i]]]
        w1, w2 = rng.choice(len(words), 2, replace=False)
        title = f"The {_ADJ[rng.integers(len(_ADJ))]} {words[w1].title()} {i}"
        second = cats[rng.integers(n_cat)]
        item_cats = [cats[item_cat[i]]] + ([second] if second != cats[item_cat[i]] else [])
        titles.append(title)
        texts.append(
            f"{title}: a {cats[item_cat[i]]} story about {words[w1]} and {words[w2]}, "
            f"with a touch of {second}."
        )
        categories.append(item_cats)

    tastes = rng.dirichlet(np.full(n_cat, 0.3), n_users)
    user_device = rng.integers(0, len(_DEVICES), n_users)
    t0 = 1_700_000_000
    rows_u, rows_i, rows_t, rows_d, rows_l, rows_e, rows_v = [], [], [], [], [], [], []
    for u in range(n_users):
        length = max(3, int(rng.poisson(mean_events)))
        t = t0 + int(rng.integers(0, 180 * 86_400))
        prev = -1
        seen: set[int] = set()
        for _ in range(length):
            ctx_device = -1
            if context_effect > 0:
                ctx_device = int(
                    user_device[u] if rng.random() < 0.6 else rng.integers(0, len(_DEVICES))
                )
            if ctx_device >= 0 and rng.random() < context_effect:
                wanted = _DEVICE_CATEGORIES[_DEVICES[ctx_device]]
                c = cats.index(wanted[int(rng.integers(len(wanted)))])
                pool = by_cat[c]
                if len(pool) == 0:
                    continue
                item = int(rng.choice(pool, p=item_pop[pool] / item_pop[pool].sum()))
            elif prev >= 0 and rng.random() < p_next:
                pool = by_cat[item_cat[prev]]
                pos = int(np.searchsorted(pool, prev))
                item = int(pool[(pos + 1) % len(pool)])
            else:
                c = int(rng.choice(n_cat, p=tastes[u]))
                pool = by_cat[c]
                if len(pool) == 0:
                    continue
                weights = item_pop[pool] / item_pop[pool].sum()
                item = int(rng.choice(pool, p=weights))
            if item in seen:
                prev = item
                continue
            seen.add(item)
            t += int(rng.exponential(6 * 3600)) + 60
            device = ctx_device
            if device < 0:
                device = int(
                    user_device[u] if rng.random() < 0.8 else rng.integers(0, len(_DEVICES))
                )
            rows_u.append(f"u{u}")
            rows_i.append(f"i{item}")
            rows_t.append(t)
            rows_d.append(_DEVICES[int(device)])
            rows_l.append(_LOCATIONS[int(rng.integers(0, len(_LOCATIONS)))])
            affinity = tastes[u, item_cat[item]]
            rows_v.append(float(np.clip(np.round(2.5 + 5 * affinity + rng.normal(0, 0.7)), 1, 5)))
            r = rng.random()
            rows_e.append("purchase" if r < 0.1 else "click" if r < 0.4 else "view")
            prev = item
    inter = pl.DataFrame(
        {
            "user_id": rows_u,
            "item_id": rows_i,
            "timestamp": rows_t,
            "event": rows_e,
            "value": rows_v,
            "device": rows_d,
            "location": rows_l,
        },
        schema_overrides={"timestamp": pl.Int64},
    ).sort("timestamp", maintain_order=True)
    items = pl.DataFrame(
        {
            "item_id": [f"i{i}" for i in range(n_items)],
            "title": titles,
            "text": texts,
            "categories": categories,
        },
        schema_overrides={"categories": pl.List(pl.String)},
    )
    users = pl.DataFrame(
        {
            "user_id": [f"u{u}" for u in range(n_users)],
            "age_group": [
                ["18-24", "25-34", "35-49", "50+"][int(x)] for x in rng.integers(0, 4, n_users)
            ],
            "country": [
                ["DE", "FR", "US", "JP", "BR"][int(x)] for x in rng.integers(0, 5, n_users)
            ],
        }
    )
    meta = {
        "source": f"synthetic(seed={seed}"
        + (f", context_effect={context_effect})" if context_effect else ")"),
        "source_format": "synthetic",
        "time_is_order": False,
    }
    return Dataset.build(inter, items, users, meta)
