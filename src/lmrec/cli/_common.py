"""Small helpers shared by the subcommands (option parsing, printing)."""

from __future__ import annotations

import json
import math
from enum import StrEnum
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from lmrec.errors import UsageError

console = Console(stderr=False)
if not console.is_terminal:
    console.width = 100  # logs and pipes: tables at their full width, not wrapped at 80


class Protocol(StrEnum):
    """How a dataset is split (``--protocol``)."""

    loo = "loo"
    temporal = "temporal"
    random = "random"


class Task(StrEnum):
    """What is evaluated or trained (``--task``)."""

    ranking = "ranking"
    basket = "basket"
    ctr = "ctr"


class OnError(StrEnum):
    """What an import does with a bad row (``--on-error``)."""

    fail = "fail"
    skip = "skip"


class DataFormat(StrEnum):
    """The formats ``lmrec data import`` reads (``--format``)."""

    movielens_100k = "movielens-100k"
    movielens = "movielens"
    movielens_dat = "movielens-dat"
    recbole = "recbole"
    sequences = "sequences"
    csv = "csv"
    tsv = "tsv"
    parquet = "parquet"
    jsonl = "jsonl"
    baskets = "baskets"


class EngineName(StrEnum):
    """Where a batch step runs (``--engine``): this process, or Apache Spark (``--master``)."""

    local = "local"
    spark = "spark"


def engine_option() -> Any:
    return typer.Option(
        EngineName.local, "--engine",
        help="local (this process) or spark (PySpark: pip install 'lmrec[spark]' and a Java "
        "17+ runtime); the same files either way.",
    )  # fmt: skip


def time_budget_option() -> Any:
    return typer.Option(
        None, "--time-budget",
        help="Seconds each fit may take, for the models that bound their fit by one (als, "
        "bpr, ease, sequential, hybrid; the others fit in one pass); --param MODEL."
        "time_budget_s=S sets one model's own.",
    )  # fmt: skip


def check_time_budget(seconds: float | None) -> None:
    if seconds is not None and not (seconds > 0 and math.isfinite(seconds)):
        raise UsageError(f"--time-budget must be a positive number of seconds, not {seconds}")


def master_option() -> Any:
    return typer.Option(
        None, "--master",
        help="With --engine spark: the Spark master URL (default local[2]; any master works).",
    )  # fmt: skip


def spark_for(engine: EngineName, master: str | None) -> Any:
    """A Spark session for ``--engine spark`` (None for local); --master only with spark."""
    if engine is EngineName.local:
        if master is not None:
            raise UsageError("--master needs --engine spark")
        return None
    from lmrec.spark import spark_session

    return spark_session(master)


class Runtime(StrEnum):
    """What scores a neural model (``--runtime``): ONNX Runtime on the graphs ``lmrec export``
    wrote, or PyTorch; ``auto``: ONNX where such graphs are there."""

    auto = "auto"
    torch = "torch"
    onnx = "onnx"


class AnnMode(StrEnum):
    """When to retrieve through an ANN index (``--ann``; enums make ``--help`` list them)."""

    auto = "auto"
    on = "on"
    off = "off"


def split_names(value: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise UsageError("--models needs at least one model name")
    return names


def parse_params(values: list[str] | None) -> dict[str, dict[str, Any]]:
    """``["als.embedding_size=128", "ease.reg=300"]`` -> ``{"als": {"embedding_size": 128}, ...}``."""
    out: dict[str, dict[str, Any]] = {}
    for item in values or []:
        key, sep, raw = item.partition("=")
        model, dot, param = key.partition(".")
        if not sep or not dot or not model or not param:
            raise UsageError(f"--param must look like MODEL.NAME=VALUE, not '{item}'")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out.setdefault(model, {})[param] = value
    return out


def metrics_table(report: dict[str, Any], labels: list[str]) -> Table:
    """Each model's test metrics: the first label with its 95% interval, the others as means
    (every interval is in report.json and report.html); fits in 100 columns."""
    table = Table(title=f"Test metrics (K={report['k']}; 95% bootstrap interval of {labels[0]})")
    table.add_column("model", overflow="fold")
    table.add_column(labels[0], justify="right")
    table.add_column("95% CI", justify="right", no_wrap=True)
    for label in labels[1:]:
        table.add_column(label, justify="right")
    table.add_column("fit s", justify="right")
    for name, entry in report["models"].items():
        first = entry["metrics"][labels[0]]
        cells = [f"{first['mean']:.4f}", f"{first['ci95'][0]:.3f}-{first['ci95'][1]:.3f}"]
        cells += [f"{entry['metrics'][label]['mean']:.4f}" for label in labels[1:]]
        table.add_row(name, *cells, f"{entry['fit_seconds']:.1f}")
    return table
