"""What served lists did, computed from the store's record of them (:class:`Impression`):
online metrics per model version and variant, and the results of experiments.

A *click* is an attributed event of type click, cart or purchase on a shown item (one per
item and list); *impressions* are items shown. CTR is clicks over impressions, with its
interval over users; conversion is the share of lists that led to a cart or a purchase.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lmrec.experiments import Experiment, always_valid_p, compare, preference, ratio
from lmrec.experiments.interleave import credit
from lmrec.experiments.stats import TAU_LIFT, TAU_PREFERENCE
from lmrec.service.store import Impression

__all__ = [
    "CLICKS",
    "LOOKS",
    "MIN_USERS",
    "Traffic",
    "experiment_results",
    "online_metrics",
    "traffic",
]

#: attributed event types that count as a click
CLICKS = frozenset({"click", "cart", "purchase"})
#: how many cumulative looks the always-valid p-value takes over an experiment's traffic
LOOKS = 20
#: a look counts toward the always-valid p-value once every arm has this many users
MIN_USERS = 100


def clicked_positions(imp: Impression, k: int | None = None) -> set[int]:
    return {pos for kind, pos in imp.feedback if kind in CLICKS and (k is None or pos < k)}


def _pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def online_metrics(
    served: Sequence[Impression],
    *,
    k: int,
    catalog_size: int,
    categories: Callable[[str], Sequence[str]] | None = None,
    bucket_s: float | None = None,
) -> dict[str, Any]:
    """Per (model version, variant): lists, users, impressions and clicks in the top ``k``,
    CTR@k with its interval, per-position CTR, conversion, catalog coverage and category
    diversity of what was shown, and the compute latency; and the same over time."""
    groups: dict[tuple[str, str | None], list[Impression]] = {}
    for imp in served:
        groups.setdefault((imp.version, imp.variant), []).append(imp)
    out = [_group(v, var, lists, k, catalog_size, categories) for (v, var), lists in
           sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))]  # fmt: skip
    span = (served[-1].at - served[0].at) if served else 0.0
    step = bucket_s or _bucket(span)
    timeline: dict[tuple[float, str, str | None], list[int]] = {}
    for imp in served:
        start = math.floor(imp.at / step) * step
        row = timeline.setdefault((start, imp.version, imp.variant), [0, 0, 0])
        row[0] += 1
        row[1] += min(k, len(imp.items))
        row[2] += len(clicked_positions(imp, k))
    return {
        "k": k,
        "lists": len(served),
        "groups": out,
        "bucket_s": step,
        "timeline": [
            {
                "start": t,
                "version": v,
                "variant": var,
                "lists": n,
                "impressions": shown,
                "clicks": c,
                "ctr": c / shown if shown else None,
            }
            for (t, v, var), (n, shown, c) in sorted(
                timeline.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")
            )
        ],
    }


def _bucket(span: float) -> float:
    for step in (60.0, 300.0, 900.0, 3600.0, 6 * 3600.0, 86400.0):
        if span / step <= 48:
            return step
    return 7 * 86400.0


def _group(
    version: str,
    variant: str | None,
    lists: list[Impression],
    k: int,
    catalog_size: int,
    categories: Callable[[str], Sequence[str]] | None,
) -> dict[str, Any]:
    users: dict[str, list[int]] = {}
    shown_at = np.zeros(k)
    clicks_at = np.zeros(k)
    carts = purchases = 0
    items: set[str] = set()
    diversity: list[float] = []
    for imp in lists:
        top = imp.items[:k]
        clicked = clicked_positions(imp, k)
        row = users.setdefault(imp.user, [0, 0])
        row[0] += len(top)
        row[1] += len(clicked)
        shown_at[: len(top)] += 1
        for pos in clicked:
            clicks_at[pos] += 1
        kinds = {kind for kind, pos in imp.feedback if pos < k}
        carts += "cart" in kinds or "purchase" in kinds
        purchases += "purchase" in kinds
        items.update(top)
        if categories is not None and len(top) > 1:
            diversity.append(_diversity([set(categories(i)) for i in top]))
    per_user = np.array(list(users.values()), dtype=np.float64).reshape(-1, 2)
    ctr = ratio(per_user[:, 1], per_user[:, 0])
    n = len(lists)
    latency = [imp.latency_ms for imp in lists]
    return {
        "version": version,
        "variant": variant,
        "lists": n,
        "users": len(users),
        "impressions": int(per_user[:, 0].sum()),
        "clicks": int(per_user[:, 1].sum()),
        "ctr": ctr.to_dict(),
        "position_ctr": [
            float(c / s) if s else None for c, s in zip(clicks_at, shown_at, strict=True)
        ],
        "conversion": {"cart": carts / n if n else None, "purchase": purchases / n if n else None},
        "coverage": len(items) / catalog_size if catalog_size else None,
        "diversity": float(np.mean(diversity)) if diversity else None,
        "latency_ms": {"p50": _pct(latency, 50), "p95": _pct(latency, 95)},
    }


def _diversity(cats: list[set[str]]) -> float:
    """Mean pairwise 1 - Jaccard of the items' category sets (items without any: distance 0)."""
    dist = []
    for a in range(len(cats)):
        for b in range(a + 1, len(cats)):
            union = cats[a] | cats[b]
            dist.append(1.0 - len(cats[a] & cats[b]) / len(union) if union else 0.0)
    return float(np.mean(dist))


@dataclass(frozen=True)
class Traffic:
    """An experiment's served lists as arrays, one entry per list: its user (an index), its
    variant (an index; an interleaving has none), when it was served, items shown, clicks,
    and for an interleaving the clicks credited to each side."""

    users: np.ndarray
    variants: np.ndarray
    at: np.ndarray
    shown: np.ndarray
    clicks: np.ndarray
    credit_a: np.ndarray
    credit_b: np.ndarray


def traffic(exp: Experiment, served: Sequence[Impression]) -> Traffic:
    names = {v.name: j for j, v in enumerate(exp.variants)}
    lists = [imp for imp in served if imp.experiment == exp.name]
    user_index: dict[str, int] = {}
    rows = []
    for imp in lists:
        clicked = clicked_positions(imp)
        a, b = credit(imp.teams, sorted(clicked)) if imp.teams is not None else (0, 0)
        rows.append((
            user_index.setdefault(imp.user, len(user_index)), names.get(imp.variant or "", -1),
            imp.at, len(imp.items), len(clicked), a, b,
        ))  # fmt: skip
    arr = np.array(rows, dtype=np.float64).reshape(-1, 7)
    return Traffic(
        arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), arr[:, 2], arr[:, 3],
        arr[:, 4], arr[:, 5], arr[:, 6],
    )  # fmt: skip


def _per_user(t: Traffic, mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    n = int(t.users.max()) + 1 if len(t.users) else 0
    return np.bincount(t.users[mask], weights=values[mask], minlength=n)


def experiment_results(exp: Experiment, t: Traffic, *, looks: int = LOOKS) -> dict[str, Any]:
    """An experiment's results from its traffic: per variant users, impressions, clicks and
    CTR; the sample-ratio mismatch p-value; and (A/B) each variant's lift against the first
    or (interleaving) the preference for the second, each with a fixed-horizon p-value and an
    always-valid one over ``looks`` cumulative looks in time order."""
    cuts = _looks(t.at, looks)
    out: dict[str, Any] = {
        "name": exp.name, "kind": exp.kind, "running": exp.running,
        "started_at": exp.started_at, "stopped_at": exp.stopped_at,
    }  # fmt: skip
    if exp.kind == "interleaving":
        return {**out, **_interleaving(exp, t, cuts)}
    variants, est = [], []
    for j, v in enumerate(exp.variants):
        mine = t.variants == j
        shown = _per_user(t, mine, t.shown)
        clicks = _per_user(t, mine, t.clicks)
        users = shown > 0
        e = ratio(clicks[users], shown[users])
        est.append(e)
        variants.append({
            "name": v.name, "version": v.version, "share": v.share, "users": int(users.sum()),
            "impressions": int(shown.sum()), "clicks": int(clicks.sum()), "ctr": e.to_dict(),
        })  # fmt: skip
    out["variants"] = variants
    out["srm_p"] = srm(exp, t)
    comparisons = []
    for j in range(1, len(exp.variants)):
        c = compare(est[0], est[j])
        thetas, variances = [], []
        for cut in cuts:
            before = t.at <= cut
            arms = [before & (t.variants == arm) for arm in (0, j)]
            if min(len(np.unique(t.users[m])) for m in arms) < MIN_USERS:
                continue
            cj = compare(_arm(t, arms[0]), _arm(t, arms[1]))
            thetas.append(cj.log_lift)
            variances.append(cj.log_var)
        entry = {"variant": exp.variants[j].name,
                 **c.to_dict(always_valid_p(thetas, variances, TAU_LIFT))}  # fmt: skip
        comparisons.append(entry)
    out["comparisons"] = comparisons
    return out


def srm(exp: Experiment, t: Traffic) -> float:
    from lmrec.experiments import srm_p

    if exp.kind != "ab":
        return 1.0
    counts = [len(np.unique(t.users[t.variants == j])) for j in range(len(exp.variants))]
    return srm_p(counts, [v.share for v in exp.variants])


def _arm(t: Traffic, mask: np.ndarray) -> Any:
    shown = _per_user(t, mask, t.shown)
    clicks = _per_user(t, mask, t.clicks)
    users = shown > 0
    return ratio(clicks[users], shown[users])


def _looks(at: np.ndarray, looks: int) -> np.ndarray:
    if not len(at):
        return np.array([])
    return np.unique(np.quantile(at, np.linspace(0, 1, looks + 1)[1:]))


def _interleaving(exp: Experiment, t: Traffic, cuts: np.ndarray) -> dict[str, Any]:
    all_lists = np.ones(len(t.users), dtype=bool)
    a = _per_user(t, all_lists, t.credit_a)
    b = _per_user(t, all_lists, t.credit_b)
    share, p = preference(a, b)
    thetas, variances = [], []
    for cut in cuts:
        before = t.at <= cut
        if len(np.unique(t.users[before])) < MIN_USERS:
            continue
        s, _ = preference(_per_user(t, before, t.credit_a), _per_user(t, before, t.credit_b))
        thetas.append(s.mean - 0.5)
        variances.append(s.se**2)
    users = len(np.unique(t.users))
    variants = [
        {"name": v.name, "version": v.version, "users": users, "impressions": int(t.shown.sum()),
         "clicks": int(credited.sum())}
        for v, credited in zip(exp.variants, (a, b), strict=True)
    ]  # fmt: skip
    entry = {
        "variant": exp.variants[1].name,
        "preference": share.to_dict(),
        "p_value": None if math.isnan(p) else p,
        "always_valid_p": always_valid_p(thetas, variances, TAU_PREFERENCE),
    }
    return {"variants": variants, "srm_p": 1.0, "comparisons": [entry], "preference": entry}
