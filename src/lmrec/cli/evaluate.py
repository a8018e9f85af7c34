"""``lmrec evaluate``: compare models on one split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from lmrec.cli._common import (
    EngineName,
    Protocol,
    Task,
    check_time_budget,
    console,
    engine_option,
    master_option,
    metrics_table,
    parse_params,
    spark_for,
    split_names,
    time_budget_option,
)
from lmrec.errors import UsageError

if TYPE_CHECKING:
    from lmrec.cart.evaluation import BasketConfig
    from lmrec.ctr.evaluation import CTRConfig


def evaluate(
    ctx: typer.Context,
    models: str | None = typer.Option(
        None,
        "--models",
        "-m",
        help="Comma-separated: pop, rules, itemknn, als, bpr, ease, content, sequential, hybrid "
        "(ranking and basket tasks).",
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Folder for report.json, report.html, recs/."
    ),
    split: Path | None = typer.Option(
        None, "--split", "-s", help="A split folder (lmrec data split)."
    ),
    dataset: Path | None = typer.Option(
        None, "--dataset", "-d", help="Or a dataset folder, split here with --protocol."
    ),
    task: Task = typer.Option(
        Task.ranking,
        "--task",
        help="ranking: top-N for users (split given or made by --protocol); basket: complete "
        "held-out baskets (needs --dataset; every user is one basket); ctr: click prediction "
        "(needs --dataset; models logreg, lightgbm, deepfm, dcn; temporal 80/20).",
    ),
    protocol: Protocol = typer.Option(
        Protocol.loo, "--protocol", help="With --dataset: how to split it."
    ),
    k: int = typer.Option(10, "--k", help="List length (metrics are @K)."),
    tune: bool = typer.Option(
        True, "--tune/--no-tune", help="Choose hyper-parameters on validation (else defaults)."
    ),
    param: list[str] = typer.Option(
        [],
        "--param",
        help="Fix a hyper-parameter: MODEL.NAME=VALUE (repeatable); the model is then not tuned.",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for splits and bootstrap."),
    n_boot: int = typer.Option(1000, "--n-boot", help="Bootstrap resamples for the 95% intervals."),
    search: str = typer.Option(
        "grid",
        "--search",
        help="How tuning searches: grid (every setting of each model's "
        "grid) or tpe (Optuna TPE over each model's ranges, within --trials and --tune-timeout).",
    ),
    trials: int | None = typer.Option(
        None, "--trials", help="With --search tpe: fits per model (default: a third of its grid)."
    ),
    tune_timeout: float | None = typer.Option(
        None, "--tune-timeout", help="With --search tpe: seconds per model's search."
    ),
    time_budget: float | None = time_budget_option(),
    study: str | None = typer.Option(
        None,
        "--study",
        help="With --search tpe: an Optuna storage (sqlite:///study.db) that "
        "keeps every trial; a later run resumes it.",
    ),
    cold_items: float = typer.Option(
        0.0,
        "--cold-items",
        help="Cold-start protocol: remove this "
        "share of items (seeded) from training entirely and report "
        "Recall@20 on the test cases whose target is one of them.",
    ),
    label_threshold: float | None = typer.Option(
        None,
        "--label-threshold",
        help="CTR task: a click is value >= this (default: the dataset's own, else 4).",
    ),
    text_encoder: str = typer.Option(
        "all-MiniLM-L6-v2",
        "--text-encoder",
        help="Basket task: encoder that finds near-substitutes; CTR task: encoder of item text.",
    ),
    rerank_sweep: bool = typer.Option(
        False,
        "--rerank-sweep",
        help="Ranking task: re-rank each model's top 100 at a range of strengths and report "
        "NDCG, intra-list diversity, coverage and novelty at each (rerank_sweep in report.json).",
    ),
    rerank_text: bool = typer.Option(
        True,
        "--rerank-text/--no-rerank-text",
        help="With --rerank-sweep: diversity over text embeddings (--text-encoder) and "
        "categories; else over categories only.",
    ),
    calibration: float = typer.Option(
        0.0, "--calibration", help="With --rerank-sweep: weight of the calibration term (>= 0)."
    ),
    context: bool = typer.Option(
        False,
        "--context",
        help="Ranking task: also score with the context of each held-out action (part of day, "
        "weekday/weekend, device, location), weight chosen on validation; report both.",
    ),
    user_history: bool = typer.Option(
        True,
        "--user-history/--no-user-history",
        help="CTR task: give each event its user's count of earlier events and click rate.",
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
    off_policy: bool = typer.Option(
        False,
        "--off-policy",
        help="Estimate the online CTR of the model at --artifacts from "
        "the lists a service served with exploration on (--store), without serving it.",
    ),
    store: str | None = typer.Option(None, "--store", help="With --off-policy: the store URL."),
    artifacts: Path | None = typer.Option(
        None, "--artifacts", help="With --off-policy: the candidate version's artifacts."
    ),
    since: str | None = typer.Option(
        None, "--since", help="With --off-policy: lists served from (Unix seconds or ISO 8601)."
    ),
    until: str | None = typer.Option(None, "--until", help="With --off-policy: ... until."),
    lists: Path | None = typer.Option(
        None,
        "--lists",
        help="Score lists already made (a Parquet file from 'lmrec recommend --users') against "
        "--split's test actions, instead of models.",
    ),
    engine_name: EngineName = engine_option(),
    master: str | None = master_option(),
) -> None:
    """Tune on validation, refit on train + validation, rank all items for test users, report.

    Every model ranks the full catalog with each user's earlier items excluded. With
    --off-policy: the self-normalised inverse propensity estimate of a model's online CTR
    from logged lists.
    """
    if off_policy:
        _off_policy(store, artifacts, models, since, until, out)
        return
    if lists is not None:
        _lists(lists, split, k, out, spark_for(engine_name, master))
        return
    if engine_name is EngineName.spark:
        raise UsageError("--engine spark evaluates --lists; models are evaluated on one machine")
    if models is None:
        raise UsageError("give --models (or --off-policy with --store and --artifacts)")
    from lmrec.cart.evaluation import BasketConfig
    from lmrec.ctr.evaluation import CTRConfig
    from lmrec.data import Dataset, Split, split_dataset
    from lmrec.evaluation import EvalConfig
    from lmrec.evaluation import evaluate as run
    from lmrec.models.registry import create_model

    if (split is None) == (dataset is None):
        raise UsageError("give exactly one of --split or --dataset")
    if not 1 <= k <= 1000:
        raise UsageError(f"--k must be between 1 and 1000, not {k}")
    names = split_names(models)
    if task == "ctr":
        if dataset is None or param:
            raise UsageError("--task ctr needs --dataset and takes no --param")
        cfg_c = CTRConfig(
            seed=seed, tune=tune, n_boot=min(n_boot, 500), progress=progress,
            text_encoder=text_encoder, label_threshold=label_threshold, user_history=user_history,
        )  # fmt: skip
        _ctr(dataset, names, out, cfg_c)
        return
    fixed = parse_params(param)
    for model_name, p in fixed.items():
        if model_name not in names:
            raise UsageError(f"--param names model '{model_name}', which is not in --models")
        create_model(model_name, **p)  # validate early
    if task == "basket":
        if dataset is None:
            raise UsageError("--task basket needs --dataset (a dataset of baskets)")
        cfg_b = BasketConfig(
            k=k, seed=seed, tune=tune, n_boot=n_boot, progress=progress, text_encoder=text_encoder
        )
        _basket(dataset, names, out, cfg_b, fixed)
        return
    if split is not None:
        s = Split.load(split)
    else:
        assert dataset is not None
        data = Dataset.load(dataset)
        s = split_dataset(data, protocol.value, seed=seed)
        s = type(s)(
            s.train,
            s.valid,
            s.test,
            s.items,
            s.users,
            {**s.meta, "time_is_order": bool(data.meta.get("time_is_order"))},
        )
    if calibration < 0:
        raise UsageError(f"--calibration must be >= 0, not {calibration}")
    if search not in ("grid", "tpe"):
        raise UsageError(f"--search must be grid or tpe, not '{search}'")
    if trials is not None and trials < 1:
        raise UsageError(f"--trials must be >= 1, not {trials}")
    if tune_timeout is not None and not tune_timeout > 0:
        raise UsageError(f"--tune-timeout must be > 0, not {tune_timeout}")
    check_time_budget(time_budget)
    from lmrec.cli.config import tuning_spaces

    cfg = EvalConfig(
        k=k,
        seed=seed,
        tune=tune,
        n_boot=n_boot,
        search=search,
        trials=trials,
        tune_timeout_s=tune_timeout,
        study=study,
        time_budget_s=time_budget,
        spaces=tuning_spaces(ctx, names),
        cold_items=cold_items,
        progress=progress,
        rerank_sweep=rerank_sweep,
        rerank_text_encoder=text_encoder if rerank_text else None,
        rerank_calibration=calibration,
        context=context,
    )
    params = dict(fixed.items())
    report = run(s, names, cfg, out=out, params=params)
    console.print(metrics_table(report, [f"NDCG@{k}", f"HR@{k}", f"Recall@{k}", f"Coverage@{k}"]))
    cold = report.get("cold_start")
    if cold:
        console.print(
            f"cold start: {cold['items_removed']} items removed from training, "
            f"{cold['test_cases']} test cases with a cold target"
        )
        for name, m in cold["models"].items():
            console.print(f"  {name:>12}: Recall@20 {m['Recall@20']['mean']:.4f}")
    if "context" in report:
        _print_context(report["context"], k)
    if "rerank_sweep" in report:
        console.print(_sweep_table(report["rerank_sweep"], k))
    console.print(f"report: {out / 'report.html'}  (json: {out / 'report.json'})")


def _print_context(ctx: dict[str, Any], k: int) -> None:
    if "note" in ctx:
        console.print(f"context: {ctx['note']}")
        return
    console.print(f"context fields: {', '.join(ctx['fields'])}")
    for name, m in ctx["models"].items():
        p = m["paired"]
        console.print(
            f"  {name:>12}: NDCG@{k} {m[f'test_NDCG@{k}_without']:.4f} -> "
            f"{m[f'test_NDCG@{k}_with']:.4f} with context (weight {m['chosen_weight']}, "
            f"difference {p['diff']:+.4f} [{p['ci95'][0]:+.4f}, {p['ci95'][1]:+.4f}])"
        )


def _sweep_table(sweep: dict[str, list[dict[str, Any]]], k: int) -> Table:
    table = Table(title="re-ranking strength: accuracy against diversity, coverage, novelty")
    cols = [f"NDCG@{k}", f"ILD@{k}", f"Coverage@{k}", f"Novelty@{k}"]
    change = f"NDCG@{k} change"
    for col in ["model", "strength", *cols, f"{change} [95% CI]"]:
        table.add_column(col, justify="right")
    for name, rows in sweep.items():
        for row in rows:
            mark = " (default)" if row.get("default") else ""
            values = ["-" if row[c] is None else f"{row[c]:.4f}" for c in cols]
            ci = row.get(f"{change} ci95")
            rel = "-" if ci is None else f"{row[change]:+.1%} [{ci[0]:+.1%}, {ci[1]:+.1%}]"
            table.add_row(name, f"{row['strength']:.1f}{mark}", *values, rel)
    return table


def _basket(
    dataset: Path, names: list[str], out: Path, cfg: BasketConfig, fixed: dict[str, dict[str, Any]]
) -> None:
    from lmrec.cart.evaluation import evaluate_baskets
    from lmrec.data import Dataset

    k = cfg.k
    report = evaluate_baskets(Dataset.load(dataset), names, cfg, out=out, params=dict(fixed))
    console.print(metrics_table(report, [f"NDCG@{k}", f"HR@{k}", f"MRR@{k}", f"Coverage@{k}"]))
    console.print(
        f"{report['counts']['test_users']} held-out baskets, one item hidden in each; "
        f"report: {out / 'report.html'}  (json: {out / 'report.json'})"
    )


def _ctr(dataset: Path, names: list[str], out: Path, cfg: CTRConfig) -> None:
    from lmrec.ctr.evaluation import evaluate_ctr
    from lmrec.data import Dataset

    report = evaluate_ctr(Dataset.load(dataset), names, cfg, out=out)
    table = Table(
        title=f"CTR on the latest {report['counts']['test']:,} events ({report['label']})"
    )
    for col in ("model", "AUC [95% CI]", "LogLoss", "ECE", "ECE uncalibrated", "fit s"):
        table.add_column(col, justify="right")
    for name, e in report["models"].items():
        m = e["metrics"]
        table.add_row(
            name,
            f"{m['AUC']['mean']:.4f} [{m['AUC']['ci95'][0]:.3f}, {m['AUC']['ci95'][1]:.3f}]",
            f"{m['LogLoss']['mean']:.4f}",
            f"{m['ECE']['mean']:.4f}",
            f"{m['ECE_uncalibrated']['mean']:.4f}",
            f"{e['fit_seconds']:.1f}",
        )
    console.print(table)
    if "oracle" in report:
        console.print(f"oracle (true probabilities): AUC {report['oracle']['AUC']:.4f}")
    console.print(f"report: {out / 'report.html'}  (json: {out / 'report.json'})")


def _off_policy(
    store: str | None, artifacts: Path | None, models: str | None, since: str | None,
    until: str | None, out: Path,
) -> None:  # fmt: skip
    import json

    from lmrec.cli.report import parse_time
    from lmrec.service.replay import off_policy_estimate
    from lmrec.service.store import open_store

    if store is None or artifacts is None:
        raise UsageError("--off-policy needs --store (the service's) and --artifacts (the "
                         "candidate's)")  # fmt: skip
    names = split_names(models) if models else [None]
    if len(names) != 1:
        raise UsageError("--off-policy estimates one model at a time")
    opened = open_store(store, create=False)
    try:
        result = off_policy_estimate(
            opened, artifacts, model=names[0], since=parse_time(since, "--since", 0.0),
            until=parse_time(until, "--until", float("inf")),
        )  # fmt: skip
    finally:
        opened.close()
    out.mkdir(parents=True, exist_ok=True)
    (out / "off_policy.json").write_text(json.dumps(result, indent=2) + "\n")
    est, logged = result["estimate"], result["logged_ctr"]

    def fmt(e: dict[str, Any]) -> str:
        if e["mean"] is None:
            return "-"
        ci = e["ci95"]
        return f"{e['mean']:.4f}" + ("" if ci is None or ci[0] is None else
                                     f" [{ci[0]:.4f}, {ci[1]:.4f}]")  # fmt: skip

    table = Table(title=f"Off-policy estimate from {result['lists']} logged lists "
                        f"({result['users']} users)")  # fmt: skip
    for col in ("model", f"estimated CTR@{result['k']} [95% CI]", "logged CTR", "support",
                "effective n"):  # fmt: skip
        table.add_column(col, justify="right")
    support = result["support"]
    table.add_row(
        f"{result['model']} ({result['version']})", fmt(est), fmt(logged),
        "-" if support is None else f"{support:.1%}", f"{result['effective_sample_size']:.0f}",
    )  # fmt: skip
    console.print(table)
    console.print(f"written: {out / 'off_policy.json'}")


def _lists(lists: Path, split: Path | None, k: int, out: Path, spark: Any) -> None:
    if split is None:
        raise UsageError("--lists needs --split (its test.parquet holds the held-out actions)")
    if not lists.is_file():
        raise UsageError(f"--lists: {lists} not found")
    truth = split / "test.parquet"
    if not truth.is_file():
        raise UsageError(f"{split}: no test.parquet; make the split with 'lmrec data split'")
    if spark is not None:
        from lmrec.spark import evaluate_lists_on_spark

        numbers = evaluate_lists_on_spark(spark, lists, truth, k=k)
    else:
        from lmrec.evaluation.lists import evaluate_lists

        numbers = evaluate_lists(lists, truth, k=k)
    out.mkdir(parents=True, exist_ok=True)
    (out / "lists.json").write_text(json.dumps({"lists": str(lists), **numbers}, indent=2) + "\n")
    shown = ", ".join(f"{name} {value:.4f}" for name, value in numbers.items() if name != "users")
    console.print(f"{numbers['users']:,} users: {shown} -> {out / 'lists.json'}")
