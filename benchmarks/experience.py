"""The experience layer on MovieLens 100K: re-ranking sweep, session simulator, explanations.

    .venv/bin/python benchmarks/experience.py [--only sweep|frontier|simulate|explain|context]

Writes benchmarks/out/experience/ and the matching section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
from candidates import list_context, list_metrics, top100  # noqa: E402
from candidates import stages as split_stages  # noqa: E402
from common import machine, write_section  # noqa: E402

SWEEP_MODELS = ["ease", "sequential"]
SIM_MODELS = ["itemknn", "ease", "sequential"]


def _stamp() -> str:
    return (
        f"Date: {dt.date.today().isoformat()}. Machine: {machine()}; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads."
    )


def sweep(args: argparse.Namespace) -> str:
    from lmrec.data import read_movielens_100k, split_loo
    from lmrec.evaluation import EvalConfig, evaluate

    split = split_loo(read_movielens_100k(args.ml100k))
    cfg = EvalConfig(k=10, tune=False, rerank_sweep=True, n_boot=200)
    report = evaluate(split, SWEEP_MODELS, cfg, out=args.out / "sweep")
    lines = [
        "### Re-ranking sweep (leave-one-out, full ranking, top 100 re-ranked)",
        "",
        "Command: `lmrec evaluate --dataset DS -m ease,sequential --no-tune --rerank-sweep "
        "--no-rerank-text` (diversity over genres; ILD = mean pairwise 1 - Jaccard of genres).",
        "",
        "| model | strength | NDCG@10 | NDCG@10 change [95% CI] | ILD@10 | Coverage@10 | "
        "Novelty@10 |",
        "|---|---|---|---|---|---|---|",
    ]
    summary = []
    for name, rows in report["rerank_sweep"].items():
        base = rows[0]
        for r in rows:
            mark = " (default)" if r.get("default") else ""
            lo, hi = r["NDCG@10 change ci95"]
            lines.append(
                f"| {name} | {r['strength']}{mark} | {r['NDCG@10']:.4f} | "
                f"{r['NDCG@10 change']:+.1%} [{lo:+.1%}, {hi:+.1%}] | {r['ILD@10']:.4f} | "
                f"{r['Coverage@10']:.4f} | {r['Novelty@10']:.3f} |"
            )
            if r.get("default"):
                summary.append(
                    f"- {name} at the default strength {r['strength']}: NDCG@10 "
                    f"{_rel(r['NDCG@10'], base['NDCG@10'])}, ILD@10 "
                    f"{_rel(r['ILD@10'], base['ILD@10'])}, Coverage@10 "
                    f"{_rel(r['Coverage@10'], base['Coverage@10'])} (targets: ILD +20%, "
                    "coverage +30%, NDCG at most -5%)."
                )
    return "\n".join([*lines, "", *summary])


#: re-ranking settings searched for the accuracy / diversity / coverage frontier, each with its
#: strengths: per-item objective with relevance, diversity kind and the exposure term (none,
#: "share" at weight 1, "inverse" at 0.1 and 0.25), the scale-free "zsoftmax" relevance at two
#: sharpnesses; then one objective over the whole list, with rank relevance and with the model's
#: probability (whose strengths are smaller: a probability is far below a rank's 1 / log2(1 + r))
STRENGTHS = (0.2, 0.3, 0.4, 0.5, 0.6)
FRONTIER: list[tuple[dict[str, Any], tuple[float, ...]]] = [
    ({"relevance": r, "diversity_kind": d, "exposure": e, "exposure_kind": ek}, STRENGTHS)
    for r in ("rank", "softmax")
    for d in ("mmr", "mean")
    for e, ek in ((0.0, "share"), (1.0, "share"), (0.1, "inverse"), (0.25, "inverse"))
] + [
    ({"relevance": "zsoftmax", "sharpness": sh, "diversity_kind": "mean", "exposure": e,
      "exposure_kind": "inverse"}, STRENGTHS)
    for sh in (0.6, 1.0)
    for e in (0.1, 0.25)
] + [
    ({"objective": "list", "exposure": e}, (0.1, 0.15, 0.2, 0.25, 0.3)) for e in (0.1, 0.25)
] + [
    ({"objective": "list", "relevance": "probability", "sharpness": sh},
     (0.02, 0.03, 0.04, 0.05, 0.07))
    for sh in (1.0, 2.0)
]  # fmt: skip
#: models the chosen setting is checked on besides sequential (a default serves every model)
FRONTIER_OTHERS = ["ease", "als", "itemknn"]
#: the issue's targets: ILD and coverage gains, NDCG loss
TARGETS = (0.2, 0.3, -0.05)


def frontier(args: argparse.Namespace) -> str:
    """The sequential model's lists re-ranked under every FRONTIER setting and strength: how
    much diversity and coverage each buys for how much NDCG@10. One setting is chosen on the
    validation split (models fitted on train): among those losing at most 5% NDCG for
    sequential and for each of FRONTIER_OTHERS (a default serves every model), the one closest
    to both targets for sequential (largest min(ILD gain / 0.2, coverage gain / 0.3)); its
    test change is its result. The chosen setting and the current default are then shown for
    every model on test."""
    from lmrec import metrics as M
    from lmrec.data import read_movielens_100k, split_loo
    from lmrec.evaluation import prepare
    from lmrec.evaluation.sweep import item_features
    from lmrec.rerank import DEFAULT_STRENGTH, RerankConfig, rerank_lists

    data = prepare(split_loo(read_movielens_100k(args.ml100k)))
    stages = split_stages(data)
    contexts = {
        stage: (list_context(train), item_features(train)) for stage, (train, *_) in stages.items()
    }

    def lists(name: str, stage: str) -> tuple[np.ndarray, np.ndarray, list[float]]:
        """Model ``name`` fitted for ``stage``: its top-100 candidates and its plain metrics."""
        train, users, _truth, at = stages[stage]
        ids, scores = top100(name, stage, train, users, at)
        return ids, scores, measure(ids[:, :10], stage)

    def measure(ids: np.ndarray, stage: str) -> list[float]:
        return list_metrics(ids, stages[stage][2], contexts[stage][0], data.train.n_items)

    def change(
        cands: tuple[np.ndarray, np.ndarray, list[float]], stage: str, cfg: Any
    ) -> list[float]:
        ids, _ = rerank_lists(cands[0], cands[1], 10, contexts[stage][1], cfg)
        return [g / b - 1 for g, b in zip(measure(ids, stage), cands[2], strict=True)]

    settings = [(setting, st) for setting, strengths in FRONTIER for st in strengths]
    changes: dict[str, list[list[float]]] = {}
    bases = {}
    seq_cands = {}
    for stage in stages:
        seq_cands[stage] = cands = lists("sequential", stage)
        bases[stage] = cands[2]
        changes[stage] = [
            change(cands, stage, RerankConfig(strength=st, **setting)) for setting, st in settings
        ]
    others = {name: lists(name, "valid") for name in FRONTIER_OTHERS}
    other_ndcg = [
        min(change(c, "valid", RerankConfig(strength=st, **setting))[0] for c in others.values())
        for setting, st in settings
    ]

    def closeness(i: int) -> float:
        rel = changes["valid"][i]
        if min(rel[0], other_ndcg[i]) < TARGETS[2]:
            return -1.0
        return min(rel[1] / TARGETS[0], rel[2] / TARGETS[1])

    def ndcg_ci(stage: str, i: int) -> tuple[float, float]:
        """95% paired-bootstrap interval of sequential's relative NDCG@10 change at setting i."""
        from lmrec.evaluation.collect import accuracy_per_user

        (ids, scores, _), truth = seq_cands[stage], stages[stage][2]
        setting, st = settings[i]
        new, _ = rerank_lists(
            ids, scores, 10, contexts[stage][1], RerankConfig(strength=st, **setting)
        )
        after = accuracy_per_user(new, truth, 10)["NDCG@10"]
        before = accuracy_per_user(ids[:, :10], truth, 10)["NDCG@10"]
        got = M.relative_change_ci(after, before, n_boot=1000)
        return (float("nan"), float("nan")) if got is None else (got[1], got[2])

    pick = max(range(len(settings)), key=closeness)
    pick_ci = ndcg_ci("test", pick)
    chosen, test = settings[pick], changes["test"][pick]
    met = test[0] >= TARGETS[2] and test[1] >= TARGETS[0] and test[2] >= TARGETS[1]
    bt, bv = bases["test"], bases["valid"]
    lines = [
        "### Re-ranking frontier (sequential, leave-one-out, top 100 re-ranked, genres)",
        "",
        "Command: `.venv/bin/python benchmarks/experience.py --only frontier`. Each row is "
        "`RerankConfig(strength, objective, relevance, sharpness, diversity_kind, exposure, "
        "exposure_kind)` (diversity 1, novelty 0); the list objective has no diversity kind "
        "(its diversity term is the list's ILD). Validation: a model fitted on train, scored on "
        "the validation split; test: fitted on train + validation. Without re-ranking: validation "
        f"NDCG@10 {bv[0]:.4f}, ILD@10 {bv[1]:.4f}, Coverage@10 {bv[2]:.4f}; test "
        f"{bt[0]:.4f}, {bt[1]:.4f}, {bt[2]:.4f}. Changes are relative (valid / test).",
        "",
        "| objective | relevance | diversity | exposure | strength | NDCG@10 | ILD@10 | Coverage@10 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i, (setting, st) in enumerate(settings):
        v, t = changes["valid"][i], changes["test"][i]
        c = RerankConfig(strength=st, **setting)
        expo = f"{c.exposure} {c.exposure_kind}" if c.exposure else "0"
        mark = " **(chosen)**" if i == pick else ""
        rel = c.relevance + (
            f" {c.sharpness}" if c.relevance in ("zsoftmax", "probability") else ""
        )
        div = "ILD" if c.objective == "list" else c.diversity_kind
        lines.append(
            f"| {c.objective} | {rel} | {div} | {expo} | {st}{mark} | "
            + " | ".join(f"{v[j]:+.1%} / {t[j]:+.1%}" for j in range(3))
            + " |"
        )
    both = [
        i for i, r in enumerate(changes["test"])
        if r[0] >= TARGETS[2] and r[1] >= TARGETS[0] and r[2] >= TARGETS[1]
    ]  # fmt: skip
    lines += [
        "",
        f"- Chosen on validation (at most 5% NDCG@10 lost by sequential and by each of "
        f"{', '.join(FRONTIER_OTHERS)}, then closest to both targets for sequential): {chosen[0]}, "
        f"strength {chosen[1]}. On test: NDCG@10 {test[0]:+.1%}, ILD@10 {test[1]:+.1%}, "
        f"Coverage@10 {test[2]:+.1%} (targets ILD +20%, coverage +30%, NDCG at most -5%: "
        f"{'met' if met else 'not met'}). The NDCG@10 change has a 95% paired-bootstrap "
        f"interval of [{pick_ci[0]:+.1%}, {pick_ci[1]:+.1%}] on test (one held-out item per "
        "user).",
        f"- Settings meeting all three on test (for reference, not for choosing): {len(both)} "
        f"of {len(settings)}.",
        *(_most_diverse(settings, changes[stage], stage, ndcg_ci) for stage in ("valid", "test")),
        "",
        "The chosen setting against the current default (`RerankConfig(strength="
        f"{DEFAULT_STRENGTH})`) for each model (fitted on train + validation, test split):",
        "",
        "| model | setting | NDCG@10 | ILD@10 | Coverage@10 |",
        "|---|---|---|---|---|",
    ]
    pick_cfg = RerankConfig(strength=chosen[1], **chosen[0])
    for name in ["sequential", *FRONTIER_OTHERS]:
        cands = seq_cands["test"] if name == "sequential" else lists(name, "test")
        for label, cfg in (
            ("default", RerankConfig(strength=DEFAULT_STRENGTH)),
            ("chosen", pick_cfg),
        ):
            r = change(cands, "test", cfg)
            lines.append(f"| {name} | {label} | " + " | ".join(f"{x:+.1%}" for x in r) + " |")
    return "\n".join(lines)


def _most_diverse(settings: list[Any], changes: list[list[float]], stage: str, ci: Any) -> str:
    """The largest ILD gain of sequential on ``stage`` among settings losing at most 5% NDCG,
    and the paired-bootstrap interval ``ci(stage, i)`` of that setting's NDCG change."""
    within = [i for i, r in enumerate(changes) if r[0] >= TARGETS[2]]
    if not within:
        return f"- On {stage}, every setting costs sequential more than 5% NDCG@10."
    i = max(within, key=lambda i: changes[i][1])
    r = changes[i]
    lo, hi = ci(stage, i)
    return (
        f"- Largest ILD@10 gain of sequential on {stage} among settings losing at most 5% "
        f"NDCG@10: {r[1]:+.1%} ({settings[i][0]}, strength {settings[i][1]}; NDCG@10 "
        f"{r[0]:+.1%} [95% CI {lo:+.1%}, {hi:+.1%}], Coverage@10 {r[2]:+.1%})."
    )


def _rel(a: float, b: float) -> str:
    return f"{a:.4f} ({100 * (a / b - 1):+.1f}%)"


def simulate(args: argparse.Namespace) -> str:
    from lmrec.data import read_movielens_100k, split_temporal
    from lmrec.rerank import DEFAULT_STRENGTH, RerankConfig
    from lmrec.simulate import SimConfig, simulate_split

    split = split_temporal(read_movielens_100k(args.ml100k))
    rerank = RerankConfig(strength=DEFAULT_STRENGTH)
    cfg = SimConfig(rounds=10, k=10, rerank=rerank, n_boot=500)
    lines = [
        "### Session simulator (temporal split: held-out ratings >= 4 are what users click)",
        "",
        "Command: `lmrec simulate --dataset DS --protocol temporal --model M --rounds 10 --out F`.",
        "",
        f"Re-ranked at the default strength {DEFAULT_STRENGTH}.",
        "",
        "| model | users | static clicks/session | real-time | vs static | real-time + re-rank | "
        "vs static | rounds to 1st click (static / real-time) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in SIM_MODELS:
        start = time.perf_counter()
        r = simulate_split(split, name, cfg)
        (args.out / f"simulate_{name}.json").write_text(json.dumps(r, indent=2) + "\n")
        s, rt, rr = r["static"], r["realtime"], r["realtime_rerank"]
        lines.append(
            f"| {name} | {r['users']} | {s['clicks_per_session']['mean']:.3f} | "
            f"{rt['clicks_per_session']['mean']:.3f} | {100 * rt['clicks_vs_static']:+.1f}% | "
            f"{rr['clicks_per_session']['mean']:.3f} | {100 * rr['clicks_vs_static']:+.1f}% | "
            f"{s['rounds_to_first_click']['mean']:.2f} / {rt['rounds_to_first_click']['mean']:.2f} |"
        )
        print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)
    return "\n".join(lines)


def explain_latency(args: argparse.Namespace) -> str:
    """Cost of a faithful reason per item on the service's path (occlusion of the last 50)."""
    from lmrec.data import read_movielens_100k, split_loo
    from lmrec.evaluation import prepare
    from lmrec.explain import explain, user_history
    from lmrec.models.registry import create_model

    data = prepare(split_loo(read_movielens_100k(args.ml100k))).train_valid
    titles = data.items["title"].to_list()
    lines = [
        "### Explanations: time to explain 10 recommended items (one user; occlusion of the "
        "50 latest history items for linear models, the 5 latest for the others)",
        "",
        "| model | median ms | p95 ms |",
        "|---|---|---|",
    ]
    for name, params in (("itemknn", {}), ("ease", {}), ("sequential", {"epochs": 2})):
        model = create_model(name, **params).fit(data)
        times = []
        for user in range(200):
            ids, _ = model.recommend(user, 10)
            start = time.perf_counter()
            explain(model, user_history(model, user), ids, titles)
            times.append(1000 * (time.perf_counter() - start))
        p95 = float(np.percentile(times, 95))
        lines.append(f"| {name} | {statistics.median(times):.2f} | {p95:.2f} |")
    return "\n".join(lines)


def context(args: argparse.Namespace) -> str:
    from lmrec.data import read_movielens_100k, split_loo, synthetic_dataset
    from lmrec.evaluation import EvalConfig, evaluate

    cfg = EvalConfig(k=10, tune=False, context=True, n_boot=200, progress=False)
    cases = [
        ("MovieLens 100K (daypart, weekday/weekend from UTC timestamps)",
         split_loo(read_movielens_100k(args.ml100k)), ["pop", "ease", "sequential"]),
        ("synthetic, known device effect (context_effect=0.5, 600 users, 300 items)",
         split_loo(synthetic_dataset(n_users=600, n_items=300, context_effect=0.5, seed=0)),
         ["pop", "ease", "sequential"]),
        ("synthetic, no context effect (same size)",
         split_loo(synthetic_dataset(n_users=600, n_items=300, seed=0)), ["pop", "ease"]),
    ]  # fmt: skip
    lines = [
        "### Context-aware scoring (leave-one-out; the context of each held-out action)",
        "",
        "Command: `lmrec evaluate --dataset DS -m M --no-tune --context`. Score = z(model score)"
        " + w * summed log-lift of the context values; w chosen on validation with the model "
        "refitted on train.",
        "",
        "| data | model | fields | w | NDCG@10 without | with | difference [95% CI] |",
        "|---|---|---|---|---|---|---|",
    ]
    for title, split, models in cases:
        rep = evaluate(split, models, cfg)["context"]
        for name, m in rep["models"].items():
            p = m["paired"]
            lines.append(
                f"| {title} | {name} | {', '.join(rep['fields'])} | {m['chosen_weight']} | "
                f"{m['test_NDCG@10_without']:.4f} | {m['test_NDCG@10_with']:.4f} | "
                f"{p['diff']:+.4f} [{p['ci95'][0]:+.4f}, {p['ci95'][1]:+.4f}] |"
            )
        print(title, flush=True)
    return "\n".join(lines)


#: the heading each part's text starts with
HEADINGS = {
    "sweep": "### Re-ranking sweep",
    "frontier": "### Re-ranking frontier",
    "simulate": "### Session simulator",
    "explain": "### Explanations",
    "context": "### Context-aware scoring",
}


def _recorded_subsections(results: Path) -> dict[str, str]:
    """The parts of the experience section already in RESULTS.md, by part name."""
    text = results.read_text() if results.is_file() else ""
    start = text.find("## Experience layer")
    if start < 0:
        return {}
    end = text.find("\n## ", start + 5)
    section = text[start : end + 1 if end >= 0 else len(text)]
    found = {}
    for chunk in section.split("\n### ")[1:]:
        chunk = "### " + chunk.rstrip("\n") + "\n"
        for name, heading in HEADINGS.items():
            if chunk.startswith(heading):
                found[name] = chunk
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ml100k", type=Path, default=Path("../shared/data/ml-100k"))
    ap.add_argument("--out", type=Path, default=HERE / "out" / "experience")
    ap.add_argument("--only", choices=["sweep", "frontier", "simulate", "explain", "context"])
    ap.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    parts: dict[str, Any] = {
        "sweep": sweep, "frontier": frontier, "simulate": simulate, "explain": explain_latency,
        "context": context,
    }  # fmt: skip
    chosen = [args.only] if args.only else list(parts)
    for name in chosen:
        text = parts[name](args)
        (args.out / f"{name}.md").write_text(text + "\n")
    kept = _recorded_subsections(args.results)
    texts = []
    for n in parts:  # a part not run from this checkout keeps its text in RESULTS.md
        path = args.out / f"{n}.md"
        if path.is_file():
            texts.append(path.read_text())
        elif n in kept:
            texts.append(kept[n])
    section = "\n".join(
        ["## Experience layer (MovieLens 100K)", "", _stamp(),
         "Command: `.venv/bin/python benchmarks/experience.py`.", "", *texts]
    )  # fmt: skip
    write_section(args.results, "## Experience layer", section)


if __name__ == "__main__":
    main()
