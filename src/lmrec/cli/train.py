"""``lmrec train``: fit models on a dataset or split and save them as artifacts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from lmrec.cli._common import (
    EngineName,
    Task,
    check_time_budget,
    console,
    engine_option,
    master_option,
    parse_params,
    spark_for,
    split_names,
    time_budget_option,
)
from lmrec.errors import UsageError


def train(
    data: Path = typer.Argument(
        ...,
        help="A dataset folder (fit on all of it) or a split folder (fit on train + validation).",
    ),
    models: str = typer.Option(..., "--models", "-m", help="Comma-separated model names."),
    out: Path = typer.Option(..., "--out", "-o", help="Artifacts folder to write."),
    param: list[str] = typer.Option([], "--param", help="MODEL.NAME=VALUE (repeatable)."),
    tune: bool = typer.Option(
        False, "--tune", help="With a split: choose hyper-parameters on validation first."
    ),
    task: Task = typer.Option(
        Task.ranking,
        "--task",
        help="ranking: top-N models; ctr: click-through-rate models (logreg, lightgbm, deepfm, dcn) "
        "on a dataset, the latest 10% of events early-stopping and calibrating.",
    ),
    text_encoder: str = typer.Option(
        "all-MiniLM-L6-v2", "--text-encoder", help="--task ctr: encoder of the ads' text."
    ),
    time_budget: float | None = time_budget_option(),
    engine: EngineName = engine_option(),
    master: str | None = master_option(),
) -> None:
    """Fit models and save them (safetensors + JSON) with vocabularies and the catalog."""
    from lmrec.artifacts import save_artifacts
    from lmrec.data import Dataset, Split
    from lmrec.data.interactions import Interactions
    from lmrec.evaluation import EvalConfig, prepare
    from lmrec.evaluation import tune as do_tune
    from lmrec.models.registry import create_model, with_time_budget

    names = split_names(models)
    fixed = parse_params(param)
    check_time_budget(time_budget)
    if task is Task.basket:
        raise UsageError("--task basket is for evaluate; train the models on the baskets' dataset")
    if task == "ctr":
        if engine is EngineName.spark:
            raise UsageError("--task ctr trains on one machine; drop --engine spark")
        _train_ctr(data, names, fixed, out, text_encoder)
        return
    if engine is EngineName.spark:
        from lmrec.spark import SPARK_MODELS

        if tune:
            raise UsageError("--tune runs on one machine; give the settings with --param")
        if time_budget is not None:
            raise UsageError(
                "--time-budget bounds fits on one machine; on Spark set the epochs "
                "(--param als.epochs=N)"
            )
        wrong = [n for n in names if n not in SPARK_MODELS]
        if wrong:
            raise UsageError(
                f"--engine spark trains {', '.join(SPARK_MODELS)}, not {', '.join(wrong)}; "
                "train those with --engine local (any model's lists can then be scored on "
                "Spark with 'lmrec recommend --engine spark')"
            )
    fixed = with_time_budget(names, fixed, time_budget)
    spark = spark_for(engine, master)
    if spark is not None:
        _train_on_spark(spark, data, names, fixed, out)
        return
    if (data / "split.json").is_file():
        split = Split.load(data)
        prepared = prepare(split)
        full = prepared.train_valid
        source = f"split {data}"
    else:
        if tune:
            raise UsageError("--tune needs a split folder (it tunes on the validation part)")
        full = Interactions.from_dataset(Dataset.load(data))
        prepared = None
        source = f"dataset {data}"
    fitted = {}
    for name in names:
        params = dict(fixed.get(name, {}))
        if tune and prepared is not None and set(params) <= {"time_budget_s"}:
            params, _ = do_tune(name, prepared, EvalConfig(time_budget_s=time_budget))
        fitted[name] = create_model(name, **params).fit(full)
        console.print(f"trained {name} {params}")
    save_artifacts(out, fitted, full, source=source)
    if prepared is not None and len(prepared.test_users):
        _print_evaluation(out, fitted, prepared.test, source)
    console.print(f"artifacts -> {out}")


def _train_on_spark(
    spark: Any, data: Path, names: list[str], fixed: dict[str, dict[str, Any]], out: Path
) -> None:
    """Every step on Spark from the folder's files: this process never holds the
    interactions (:func:`lmrec.spark.train_folder_on_spark`)."""
    from lmrec.spark import train_folder_on_spark

    done = train_folder_on_spark(spark, data, {n: dict(fixed.get(n, {})) for n in names}, out)
    for name in names:
        console.print(f"trained {name} {fixed.get(name, {})} on Spark")
    console.print(f"  {done.interactions:,} interactions")
    if done.test is not None and len(done.test.users):
        _print_evaluation(out, done.models, done.test, done.source)
    console.print(f"artifacts -> {out}")


def _print_evaluation(out: Path, fitted: dict[str, Any], test: Any, source: str) -> None:
    from lmrec.evaluation.outputs import write_version_evaluation

    for name, numbers in write_version_evaluation(out, fitted, test, source).items():
        console.print(f"  {name}: NDCG@10 {numbers['NDCG@10']:.4f} on the test users")


def _train_ctr(
    data: Path, names: list[str], fixed: dict[str, dict[str, Any]], out: Path, text_encoder: str
) -> None:
    from lmrec.ctr.ads import CTRArtifacts, fit_ctr
    from lmrec.data import Dataset

    if (data / "split.json").is_file():
        raise UsageError("--task ctr trains on a dataset folder, not a split")
    ds = Dataset.load(data)
    fitted = {}
    encoder = None
    for name in names:
        fitted[name], encoder = fit_ctr(ds, name, fixed.get(name), text_encoder=text_encoder)
        console.print(f"trained CTR model {name} {fixed.get(name, {})}")
    assert encoder is not None
    CTRArtifacts.save(out, fitted, encoder, ds)
    console.print(f"CTR artifacts -> {out / 'ctr'}")
