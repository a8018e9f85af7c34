"""``lmrec demo``: the whole path on MovieLens 100K (or synthetic data) in one command."""

from __future__ import annotations

from pathlib import Path

import typer

from lmrec.cli._common import console, metrics_table


def demo(
    ml100k: Path = typer.Option(
        Path("../shared/data/ml-100k"),
        "--ml100k",
        help="A local MovieLens 100K folder; used when present.",
    ),
    out: Path = typer.Option(
        Path("runs/demo"), "--out", "-o", help="Where to write dataset, split and report."
    ),
    download: bool = typer.Option(
        True,
        "--download/--no-download",
        help="Try to download MovieLens 100K when no local copy exists.",
    ),
    models: str = typer.Option(
        "pop,itemknn,ease,als,bpr,content,sequential,hybrid", "--models", help="Models to compare."
    ),
) -> None:
    """Import (local MovieLens 100K, else a download, else synthetic data), split, evaluate."""
    from lmrec.demo import run_demo

    report, source = run_demo(ml100k, out, download=download, models=models.split(","))
    console.print(f"data: {source}")
    k = report["k"]
    console.print(metrics_table(report, [f"NDCG@{k}", f"HR@{k}", f"Coverage@{k}"]))
    console.print(f"report: {out / 'report' / 'report.html'}")
    console.print("the app, on the best model (then open http://127.0.0.1:8000/):")
    console.print(
        f"  lmrec serve {out / 'artifacts'} --no-auth --store sqlite:///{out / 'store.db'}",
        soft_wrap=True,
    )
