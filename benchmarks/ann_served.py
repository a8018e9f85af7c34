"""A 1,000,000-item catalog served over HTTP through the ANN index: ``lmrec serve --ann on``.

    .venv/bin/python benchmarks/ann_served.py [--items 1000000] [--rate 100] [--seconds 20]

The catalog is synthetic: item vectors as in ann_1m.py (64 dimensions, 1,000 clusters, unit
length) standing for text embeddings, served by the ``content`` model; 2,000 users with 20 items
each, drawn from 1 to 3 clusters. The server retrieves 200 candidates per request from the HNSW
index (efSearch 128) and scores them exactly. Reported: latency of ``POST /v1/recommendations``
at a fixed rate (open loop, load generator on the same 2 cores) and recall@10 of the served lists
against exact search over the whole catalog (seen items excluded in both).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import signal
import sys
import time
from pathlib import Path

import httpx
import numpy as np

HERE = Path(__file__).resolve().parent
from common import machine, write_section  # noqa: E402
from service_load import _free_port, fixed_rate, start_server  # noqa: E402


def build(out: Path, n_items: int, n_users: int, seed: int = 0) -> Path:
    import polars as pl
    import scipy.sparse as sp

    from lmrec.artifacts import save_artifacts
    from lmrec.data.interactions import Interactions
    from lmrec.data.vocab import Vocabulary
    from lmrec.index import VectorIndex
    from lmrec.models.content import ContentRecommender, _normalise

    rng = np.random.default_rng(seed)
    d, n_clusters = 64, 1000
    centres = rng.normal(size=(n_clusters, d)).astype(np.float32)
    cluster = rng.integers(0, n_clusters, n_items)
    items = centres[cluster] + 0.5 * rng.normal(size=(n_items, d)).astype(np.float32)
    items /= np.linalg.norm(items, axis=1, keepdims=True)
    by_cluster = np.argsort(cluster, kind="stable")
    starts = np.searchsorted(cluster[by_cluster], np.arange(n_clusters + 1))
    pairs_u, pairs_i = [], []
    for u in range(n_users):
        for c in rng.choice(n_clusters, size=int(rng.integers(1, 4)), replace=False):
            pool = by_cluster[starts[c] : starts[c + 1]]
            for i in rng.choice(pool, size=min(len(pool), 20 // 2), replace=False):
                pairs_u.append(f"u{u}")
                pairs_i.append(f"i{int(i)}")
    frame = pl.DataFrame(
        {"user_id": pairs_u, "item_id": pairs_i, "timestamp": np.arange(len(pairs_u))}
    )
    catalog = pl.DataFrame(
        {
            "item_id": [f"i{i}" for i in range(n_items)],
            "title": [f"Item {i}" for i in range(n_items)],
        }
    )
    users = Vocabulary([f"u{u}" for u in range(n_users)])
    vocab = Vocabulary(catalog["item_id"].to_list())
    data = Interactions.from_frame(frame, users, vocab, items=catalog, time_is_order=True)
    model = ContentRecommender(text_encoder="hashing", half_life=None)
    # fitted by hand: the "text embeddings" are the synthetic vectors
    model.n_users_, model.n_items_ = data.n_users, data.n_items
    model.seen_ = data.matrix.astype(np.float32)
    counts = data.item_counts
    model.popularity_ = (counts / max(1.0, counts.max())).astype(np.float32)
    model.item_embeddings_ = items
    model.user_profiles_ = _normalise(np.asarray(sp.csr_matrix(model.seen_) @ items, np.float32))
    root = save_artifacts(out, {"content": model}, data, source=f"synthetic {n_items:,} items")
    start = time.perf_counter()
    VectorIndex("ivf").build(items).save(root / "content" / "ann.faiss")
    print(f"index built in {time.perf_counter() - start:.0f} s", flush=True)
    return root


def hnsw_recall(art: Path, users: list[str], k: int = 10) -> dict[int, float]:
    """For comparison, offline: recall@10 of an HNSW index for the same user profiles."""
    import faiss

    from lmrec.artifacts import Artifacts
    from lmrec.index import VectorIndex

    a = Artifacts.open(art)
    model = a.model("content")
    items = model.item_embeddings_  # type: ignore[attr-defined]
    faiss.omp_set_num_threads(2)
    index = VectorIndex("hnsw", m=32, ef_construction=100).build(items)
    idx = a.user_vocab.indices(users)
    queries = model.user_profiles_[idx]  # type: ignore[attr-defined]
    out = {}
    for ef in (128, 512, 1024):
        index.set_ef_search(ef)
        got, _ = index.search(queries, 200)
        hits = 0
        for row, u in enumerate(idx):
            scores = items @ queries[row]
            scores[model.seen_[u].indices] = -np.inf
            hits += len(set(np.argpartition(-scores, k)[:k].tolist()) & set(got[row].tolist()))
        out[ef] = hits / (k * len(idx))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--rate", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--out", type=Path, default=HERE / "out" / "ann_served")
    ap.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    start = time.perf_counter()
    art = build(args.out / "artifacts", args.items, args.users)
    build_s = time.perf_counter() - start
    store = args.out / "store.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(art, store, port, "--ann", "on")
    users = [f"u{u}" for u in range(args.users)]
    try:
        served: dict[str, list[str]] = {}
        with httpx.Client(base_url=base, timeout=60) as client:
            for user in users[:300]:  # warm-up, and the lists whose recall is measured
                body = client.post("/v1/recommendations", json={"user_id": user, "k": 10}).json()
                served[user] = [i["item_id"] for i in body["items"]]
        row = asyncio.run(fixed_rate(port, args.rate, args.seconds, users))
        print(row, flush=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    from lmrec.artifacts import Artifacts

    a = Artifacts.open(art)
    model = a.model("content")
    hits = 0
    for user, got in served.items():
        u = a.user_vocab.index(user)
        scores = model.item_embeddings_ @ model.user_profiles_[u]  # type: ignore[attr-defined]
        scores[model.seen_[u].indices] = -np.inf
        top = np.argpartition(-scores, 10)[:10]
        hits += len(set(a.item_vocab.raws(top)) & set(got))
    recall = hits / (10 * len(served))
    hnsw = hnsw_recall(art, list(served))
    lines = [
        f"## ANN served over HTTP: {args.items:,}-item catalog",
        "",
        f"Date: {dt.date.today().isoformat()}. Machine: {machine()}.",
        f"Command: `.venv/bin/python benchmarks/ann_served.py {' '.join(sys.argv[1:])}`.",
        "",
        f"`lmrec serve ARTIFACTS --ann on` (1 worker, content model, {args.users:,} users); "
        f"artifacts and IVF index (4 sqrt(n) k-means cells) built in {build_s:.0f} s. Each "
        "request: the user's profile vector, 200 candidates from the index (32 cells probed), "
        "exact scores for them, seen and blocked items removed, a reason per item.",
        "",
        "| offered req/s | achieved req/s | p50 ms | p95 ms | p99 ms | errors | recall@10 vs exact |",
        "|---|---|---|---|---|---|---|",
        f"| {row['rate']} | {row['achieved_rps']} | {row['p50_ms']} | {row['p95_ms']} | "
        f"{row['p99_ms']} | {row['errors']} | {recall:.4f} ({len(served)} users) |",
        "",
        "- targets: recall@10 >= 0.95 against exact, p99 <= 30 ms at 100 requests/s.",
        "- why IVF: an HNSW graph (M 32, efConstruction 100) over the same items, queried with "
        "the same user profiles (a profile averages 1 to 3 distant clusters), finds "
        + ", ".join(f"recall@10 {r:.3f} at efSearch {ef}" for ef, r in hnsw.items())
        + " (200 candidates); on queries near one item it reaches 0.97 to 0.999 (ANN over a "
        "1,000,000-item catalog, above).",
        "",
    ]
    write_section(args.results, "## ANN served over HTTP", "\n".join(lines))


if __name__ == "__main__":
    main()
