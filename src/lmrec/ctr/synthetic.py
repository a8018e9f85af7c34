"""A synthetic ad log whose click probabilities are known, to check CTR models against the truth.

Users (age group, gender) see ads (category, advertiser, bid, text) in a context (hour, weekday,
device, location). The log-odds of a click is a sum of a base rate, a per-user and a per-ad
effect, and pairwise effects: age group x category, gender x category, device x category, part
of the day x category and location x advertiser. Each impression's true probability is kept in
the ``p_true`` column (never used as a feature), so the oracle's AUC and calibration are known.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from lmrec.data.dataset import Dataset

__all__ = ["synthetic_ad_log"]

_CATEGORIES = ["travel", "finance", "games", "fashion", "food", "cars", "fitness", "books"]
_WORDS = {
    "travel": "flights hotels beach city breaks",
    "finance": "savings loans credit cards investing",
    "games": "strategy puzzle console multiplayer",
    "fashion": "shoes jackets summer collection",
    "food": "recipes delivery pizza organic",
    "cars": "electric suv test drive lease",
    "fitness": "gym running yoga protein",
    "books": "novels thrillers audiobooks bestsellers",
}
_AGES = ["18-24", "25-34", "35-44", "45-54", "55+"]
_DEVICES = ["mobile", "desktop", "tablet"]
_LOCATIONS = ["home", "work", "commute", "travel"]


def synthetic_ad_log(
    *,
    n_users: int = 2000,
    n_ads: int = 300,
    n_events: int = 200_000,
    n_advertisers: int = 40,
    base_ctr: float = 0.08,
    days: int = 28,
    seed: int = 0,
) -> Dataset:
    rng = np.random.default_rng(seed)
    n_cat = len(_CATEGORIES)
    age = rng.integers(len(_AGES), size=n_users)
    gender = rng.integers(2, size=n_users)
    user_fx = rng.normal(0, 0.3, n_users)
    cat = rng.integers(n_cat, size=n_ads)
    adv = rng.integers(n_advertisers, size=n_ads)
    ad_fx = rng.normal(0, 0.5, n_ads)
    bid = np.round(np.exp(rng.normal(0, 0.5, n_ads)), 2)
    age_cat = rng.normal(0, 0.6, (len(_AGES), n_cat))
    gender_cat = rng.normal(0, 0.4, (2, n_cat))
    device_cat = rng.normal(0, 0.4, (len(_DEVICES), n_cat))
    daypart_cat = rng.normal(0, 0.4, (4, n_cat))
    location_adv = rng.normal(0, 0.3, (len(_LOCATIONS), n_advertisers))

    u = rng.integers(n_users, size=n_events)
    a = rng.integers(n_ads, size=n_events)
    ts = np.sort(rng.integers(0, days * 86_400, size=n_events)) + 1_700_000_000
    hour = (ts % 86_400) // 3600
    device = rng.integers(len(_DEVICES), size=n_events)
    location = rng.integers(len(_LOCATIONS), size=n_events)
    c = cat[a]
    logit = (
        np.log(base_ctr / (1 - base_ctr))
        + user_fx[u]
        + ad_fx[a]
        + age_cat[age[u], c]
        + gender_cat[gender[u], c]
        + device_cat[device, c]
        + daypart_cat[hour // 6, c]
        + location_adv[location, adv[a]]
    )
    p = 1 / (1 + np.exp(-logit))
    clicked = rng.random(n_events) < p
    inter = pl.DataFrame(
        {
            "user_id": [f"user{i}" for i in u],
            "item_id": [f"ad{j}" for j in a],
            "timestamp": ts.astype(np.int64),
            "event": np.where(clicked, "click", "view"),
            "value": clicked.astype(np.float64),
            "device": [_DEVICES[d] for d in device],
            "location": [_LOCATIONS[x] for x in location],
            "p_true": [f"{x:.6f}" for x in p],
        }
    )
    items = pl.DataFrame(
        {
            "item_id": [f"ad{j}" for j in range(n_ads)],
            "title": [f"{_CATEGORIES[cat[j]].title()} offer {j}" for j in range(n_ads)],
            "text": [
                f"{_CATEGORIES[cat[j]]}: {_WORDS[_CATEGORIES[cat[j]]]} from brand {adv[j]}"
                for j in range(n_ads)
            ],
            "categories": [[_CATEGORIES[cat[j]]] for j in range(n_ads)],
            "advertiser": [f"brand{adv[j]}" for j in range(n_ads)],
            "bid": bid,
        }
    )
    users = pl.DataFrame(
        {
            "user_id": [f"user{i}" for i in range(n_users)],
            "age_group": [_AGES[x] for x in age],
            "gender": [["F", "M"][g] for g in gender],
        }
    )
    meta = {
        "source": "synthetic-ads",
        "source_format": "synthetic-ads",
        "seed": seed,
        "time_is_order": False,
        "ctr_label_threshold": 1.0,
    }
    return Dataset.build(inter, items, users, meta)
