"""Off-policy estimates from the store's record of served lists (``lmrec evaluate
--off-policy``): what CTR a candidate model would get, estimated from lists served with
exploration on (their propensities recorded) without serving the candidate to anyone.

The candidate's list for a user is its list from the user's training history (the fresh events
at the time are not replayed). See :mod:`lmrec.experiments.offpolicy` for the estimator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lmrec.errors import UsageError
from lmrec.experiments import ratio, snips
from lmrec.online import Request, ServingOptions, UserState, discover_versions, load_version
from lmrec.online import recommend as online_recommend
from lmrec.service.measure import clicked_positions
from lmrec.service.store import Impression, Store

__all__ = ["candidate_lists", "off_policy", "off_policy_estimate"]


def off_policy(
    served: Sequence[Impression], lists: Callable[[str], Sequence[str]], k: int
) -> dict[str, Any]:
    """The SNIPS estimate of the CTR@``k`` of a ranker whose top-``k`` list for a user (as
    stored: a pseudonym) is ``lists(user)``, from ``served`` lists that recorded propensities.
    ``support`` is the share of the ranker's items that were in the logging pool (could have
    been shown); the estimate speaks for those only."""
    logged = [imp for imp in served if imp.propensities is not None]
    if not logged:
        raise UsageError(
            "no served list recorded propensities: serve with exploration on "
            "(lmrec serve --explore 0.2) and try again"
        )
    clicks, weights, users, logged_rows = [], [], [], []
    supported = total = 0
    for imp in logged:
        mine = set(lists(imp.user)[:k])
        pool = set(imp.pool or imp.items)
        supported += len(mine & pool)
        total += len(mine)
        clicked = clicked_positions(imp)
        assert imp.propensities is not None
        for j, (item, p) in enumerate(zip(imp.items, imp.propensities, strict=True)):
            hit = float(j in clicked)
            logged_rows.append((imp.user, hit))
            if item in mine and p > 0:
                clicks.append(hit)
                weights.append(1.0 / p)
                users.append(imp.user)
    estimate, ess = snips(np.array(clicks), np.array(weights), np.array(users))
    by_user: dict[str, list[float]] = {}
    for user, hit in logged_rows:
        row = by_user.setdefault(user, [0.0, 0.0])
        row[0] += 1
        row[1] += hit
    arr = np.array(list(by_user.values()))
    return {
        "lists": len(logged),
        "users": len(by_user),
        "k": k,
        "estimate": estimate.to_dict(),
        "effective_sample_size": ess,
        "support": supported / total if total else None,
        "logged_ctr": ratio(arr[:, 1], arr[:, 0]).to_dict(),
    }


def candidate_lists(
    store: Store, artifacts: Path, users: set[str], k: int, model: str | None = None
) -> tuple[dict[str, list[str]], str, str]:
    """The candidate's top-``k`` raw item ids for each stored user (pseudonyms), its model
    name and version name. Users the candidate was not trained on get its cold-start list."""
    versions = discover_versions(artifacts)
    if len(versions) != 1:
        raise UsageError(f"{artifacts}: give one version's folder, not {len(versions)} versions")
    name, path = next(iter(versions.items()))
    v = load_version(name, path, model, ServingOptions(text_encoder=None, ann="off"))
    vocab = v.artifacts.user_vocab
    index = {
        store.vault.pseudonym(raw): j for j, raw in enumerate(vocab.raws(np.arange(len(vocab))))
    }
    request = Request(None, k, explain=False)
    out: dict[str, list[str]] = {}
    cold: list[str] | None = None
    for user in users:
        j = index.get(user, -1)
        if j < 0 and cold is not None:
            out[user] = cold
            continue
        items = [i["item_id"] for i in online_recommend(v, request, UserState(j))["items"]]
        if j < 0:
            cold = items
        out[user] = items
    return out, v.model.name, name


def off_policy_estimate(
    store: Store,
    artifacts: Path,
    *,
    model: str | None = None,
    since: float = 0.0,
    until: float = float("inf"),
    k: int | None = None,
) -> dict[str, Any]:
    """:func:`off_policy` of the candidate saved at ``artifacts`` over the lists the store
    recorded in ``[since, until)``."""
    served = [imp for imp in store.impressions(since, until) if imp.propensities is not None]
    if not served:
        raise UsageError(
            f"the store {store.where} holds no served list with propensities in that window: "
            "serve with exploration on (lmrec serve --explore 0.2)"
        )
    depth = k or max(len(imp.items) for imp in served)
    lists, model_name, version = candidate_lists(
        store, artifacts, {imp.user for imp in served}, depth, model
    )
    result = off_policy(served, lambda u: lists[u], depth)
    return {"format": "lmrec-off-policy", "model": model_name, "version": version, **result}
