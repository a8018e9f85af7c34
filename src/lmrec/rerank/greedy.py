"""Greedy list building: relevance against diversity, novelty, freshness and calibration."""

from __future__ import annotations

import numpy as np

from lmrec._types import FloatArray, IntArray
from lmrec.progress import track
from lmrec.rerank.config import RerankConfig
from lmrec.rerank.explore import ThompsonExplorer
from lmrec.rerank.features import ItemFeatures

__all__ = ["rerank", "rerank_lists"]

#: Smoothing of the list's category mix toward the user's, so KL stays finite (Steck's alpha).
CALIBRATION_ALPHA = 0.01


def rerank(
    ids: IntArray,
    scores: FloatArray,
    k: int,
    features: ItemFeatures,
    cfg: RerankConfig,
    *,
    user_mix: FloatArray | None = None,
    explorer: ThompsonExplorer | None = None,
    rng: np.random.Generator | None = None,
    shown: np.ndarray | None = None,
) -> tuple[IntArray, FloatArray]:
    """Choose ``k`` of the candidates ``ids`` (best first by the model, with ``scores``).

    ``shown`` counts how often each item was recommended so far (for the exposure term).
    Returns the chosen item ids and their model scores, in the new order (padded with -1/NaN
    when fewer qualify). Candidates with id -1 or a non-finite score are ignored.
    """
    keep = (ids >= 0) & np.isfinite(scores)
    ids, scores = ids[keep][: cfg.candidates], scores[keep][: cfg.candidates]
    chosen: list[int] = [p for p in cfg.pinned if 0 <= p < features.n_items][:k]
    pinned = set(chosen)
    pos = np.array([i not in pinned for i in ids], dtype=bool)
    ids, scores = ids[pos], scores[pos]
    n_explore = round(cfg.explore * k) if explorer is not None else 0
    n_greedy = max(0, min(k - len(chosen) - n_explore, len(ids)))
    picked = _greedy(ids, scores, n_greedy, features, cfg, user_mix, pre=chosen, shown=shown)
    chosen_idx = list(picked)
    rest = np.setdiff1d(np.arange(len(ids)), chosen_idx, assume_unique=False)
    if n_explore and explorer is not None and len(rest):
        draws = explorer.sample(ids[rest], rng or np.random.default_rng())
        order = rest[np.argsort(-draws, kind="stable")]
        chosen_idx.extend(order[: min(n_explore, k - len(chosen) - len(chosen_idx))].tolist())
    if len(chosen) + len(chosen_idx) < k:  # dedupe or exploration left slots: fill by relevance
        used = set(chosen_idx)
        fill = [j for j in range(len(ids)) if j not in used]
        chosen_idx.extend(fill[: k - len(chosen) - len(chosen_idx)])
    out_ids = np.full(k, -1, dtype=np.int64)
    out_scores = np.full(k, np.nan, dtype=np.float32)
    top = float(scores.max()) if len(scores) else np.nan
    pinned_scores = [top] * len(chosen)  # pinned items take the top score
    all_ids = chosen + [int(ids[j]) for j in chosen_idx]
    all_scores = pinned_scores + [float(scores[j]) for j in chosen_idx]
    out_ids[: len(all_ids)] = all_ids[:k]
    out_scores[: len(all_scores)] = all_scores[:k]
    return out_ids, out_scores


def _greedy(
    ids: IntArray,
    scores: FloatArray,
    n: int,
    features: ItemFeatures,
    cfg: RerankConfig,
    user_mix: FloatArray | None,
    *,
    pre: list[int],
    shown: np.ndarray | None = None,
) -> list[int]:
    """Positions (into ``ids``) of ``n`` items chosen one slot at a time."""
    m = len(ids)
    if n == 0 or m == 0:
        return []
    s = cfg.strength
    rel = _relevance(scores, cfg.relevance, cfg.sharpness)
    all_ids = np.concatenate([ids, np.asarray(pre, dtype=np.int64)]).astype(np.int64)
    text = features.text_similarity(all_ids) if cfg.dedupe is not None else None
    if s == 0 and text is None:
        return list(range(n))
    sim = features.similarity(all_ids) if s > 0 and cfg.diversity > 0 else None
    bonus = np.zeros(m)
    weight = cfg.diversity + cfg.novelty + cfg.freshness + cfg.calibration + cfg.exposure
    if s > 0 and cfg.novelty > 0:
        bonus += cfg.novelty * features.novelty[ids]
    if s > 0 and cfg.freshness > 0 and features.freshness is not None:
        bonus += cfg.freshness * features.freshness[ids]
    if s > 0 and cfg.exposure > 0 and shown is not None:
        if cfg.exposure_kind == "inverse":
            bonus += cfg.exposure / (1.0 + shown[ids])
        else:
            most = float(np.max(shown)) if len(shown) else 0.0
            bonus += cfg.exposure * (1.0 - shown[ids] / (most + 1.0))
    elif s > 0 and cfg.exposure > 0:
        bonus += cfg.exposure  # nothing shown yet: every item is equally unexposed
    dist_c = None
    if s > 0 and cfg.calibration > 0 and user_mix is not None and user_mix.sum() > 0:
        dist_c = features.category_distribution(all_ids)
    mix_sum = np.zeros(0 if dist_c is None else dist_c.shape[1])
    # the closest chosen item so far, per candidate (pinned items count as chosen)
    closest = np.zeros(m)
    total_sim = np.zeros(m)
    blocked = np.zeros(m, dtype=bool)

    def choose(j: int) -> None:
        """Item ``j`` of ``all_ids`` joins the list: update what the next choice sees."""
        nonlocal closest, mix_sum
        if sim is not None:
            closest = np.maximum(closest, sim[:m, j])
            total_sim[:] += sim[:m, j]
        if text is not None:
            blocked[:] |= text[:m, j] >= (cfg.dedupe or 2.0)
        if dist_c is not None:
            mix_sum = mix_sum + dist_c[j]

    for p in range(len(pre)):
        choose(m + p)
    picked: list[int] = []
    taken = np.zeros(m, dtype=bool)
    whole = cfg.objective == "list"
    size = n + len(pre)  # the list's length, for the list objective's shares
    slot_weights = 1.0 / np.log2(np.arange(size) + 2.0)
    pairs = max(size * (size - 1) / 2, 1.0)
    for _ in range(n):
        n_prev = len(picked) + len(pre)
        if whole:  # the slot's gain in the list objective: DCG-weighted relevance, ILD pairs
            value = (1.0 - s) * rel * slot_weights[n_prev] / slot_weights.sum()
        else:
            value = (1.0 - s) * rel
        if s > 0 and weight > 0:
            extra = bonus.copy()
            if dist_c is not None and user_mix is not None:
                extra -= cfg.calibration * _kl_if_added(user_mix, mix_sum, dist_c[:m], n_prev)
            if whole:
                extra /= size
            if sim is not None:
                extra += cfg.diversity * _distance(whole, cfg, n_prev, closest, total_sim, pairs)
            value = value + s * extra / weight
        value = np.where(taken | blocked, -np.inf, value)
        best = int(np.argmax(value))
        if not np.isfinite(value[best]):
            break
        picked.append(best)
        taken[best] = True
        choose(best)
    return picked


def _distance(
    whole: bool,
    cfg: RerankConfig,
    n_prev: int,
    closest: np.ndarray,
    total_sim: np.ndarray,
    pairs: float,
) -> np.ndarray | float:
    """Each candidate's diversity term, given the ``n_prev`` items chosen so far: its share of
    the list's ILD (list objective), or 1 minus its largest (mmr) or mean similarity to them."""
    if whole:
        return (n_prev - total_sim) / pairs
    if n_prev == 0:
        return 1.0
    if cfg.diversity_kind == "mmr":
        return 1.0 - closest
    return 1.0 - total_sim / n_prev


def _relevance(scores: np.ndarray, kind: str, sharpness: float = 1.0) -> np.ndarray:
    """The model's preference among the candidates on [0, 1] (1 = its first choice; for
    ``"probability"``, the candidates' shares of the model's belief, summing to 1)."""
    if kind == "rank":
        order = np.argsort(-scores, kind="stable")
        rank = np.empty(len(scores))
        rank[order] = np.arange(1, len(scores) + 1)
        return 1.0 / np.log2(1.0 + rank)
    if kind == "probability":  # the model's softmax over the candidates: sums to 1 per user
        e = np.exp(sharpness * (scores.astype(np.float64) - float(scores.max())))
        return e / e.sum()
    if kind in ("softmax", "zsoftmax"):
        gap = scores.astype(np.float64) - float(scores.max())
        if kind == "zsoftmax":
            spread = float(np.std(gap))
            gap = sharpness * gap / spread if spread > 0 else np.zeros(len(gap))
        return np.exp(gap)
    lo, hi = float(scores.min()), float(scores.max())
    return (scores - lo) / (hi - lo) if hi > lo else np.ones(len(scores))


def _kl_if_added(p: np.ndarray, mix_sum: np.ndarray, cand: np.ndarray, n_chosen: int) -> np.ndarray:
    """KL(p || q~) for each candidate, where q~ is the list's category mix with it added,
    smoothed toward p."""
    q = (mix_sum[None, :] + cand) / (n_chosen + 1)
    q = (1 - CALIBRATION_ALPHA) * q + CALIBRATION_ALPHA * p[None, :]
    mask = p > 0
    ratio = np.log(np.where(mask[None, :], p[None, :] / np.maximum(q, 1e-12), 1.0))
    return (p[None, :] * ratio).sum(axis=1)


def rerank_lists(
    cand_ids: IntArray,
    cand_scores: FloatArray,
    k: int,
    features: ItemFeatures,
    cfg: RerankConfig,
    *,
    user_mix: FloatArray | None = None,
    progress: bool = False,
) -> tuple[IntArray, FloatArray]:
    """:func:`rerank` for a batch of users (rows of candidates); ``user_mix`` has one row each."""
    out_ids = np.full((len(cand_ids), k), -1, dtype=np.int64)
    out_scores = np.full((len(cand_ids), k), np.nan, dtype=np.float32)
    shown = np.zeros(features.n_items)
    for u in track(range(len(cand_ids)), "re-rank", enabled=progress):
        mix = None if user_mix is None else np.asarray(user_mix[u]).ravel()
        out_ids[u], out_scores[u] = rerank(
            cand_ids[u], cand_scores[u], k, features, cfg, user_mix=mix, shown=shown
        )
        got = out_ids[u][out_ids[u] >= 0]
        shown[got] += 1.0  # users are served in order: later lists see earlier exposure
    return out_ids, out_scores
