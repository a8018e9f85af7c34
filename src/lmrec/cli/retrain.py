"""``lmrec data export`` and ``lmrec retrain``: the service's events back into training."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from lmrec.cli._common import console, split_names

STORE_HELP = "The service's store URL (sqlite:///path.db or postgresql://...)."


def export(
    store: str = typer.Option(..., "--store", help=STORE_HELP),
    out: Path = typer.Option(..., "--out", "-o", help="Dataset folder to write."),
    base: Path | None = typer.Option(
        None, "--base", help="A dataset to put first (the data the served model was trained on)."
    ),
    artifacts: Path | None = typer.Option(
        None,
        "--artifacts",
        help="Or: put first the interactions a version was trained on (its history.parquet).",
    ),
) -> None:
    """Turn the service's events and catalog changes into a dataset, after --base (or the
    --artifacts' training data): users who opted out are left out, deleted users' earlier
    data too. Users the earlier data names keep their ids; others are named by pseudonym."""
    from lmrec.artifacts import Artifacts
    from lmrec.data import Dataset
    from lmrec.errors import UsageError
    from lmrec.service.learning import dataset_from_artifacts, export_dataset
    from lmrec.service.store import open_store

    if base is not None and artifacts is not None:
        raise UsageError("give --base or --artifacts, not both")
    first = (
        Dataset.load(base) if base is not None
        else dataset_from_artifacts(Artifacts.open(artifacts)) if artifacts is not None
        else None
    )  # fmt: skip
    db = open_store(store, create=False)
    try:
        data, counts = export_dataset(db, first)
    finally:
        db.close()
    data.save(out)
    for key, val in counts.items():
        console.print(f"{key:>24}: {val:,}")
    console.print(f"{data.interactions.height:,} interactions -> {out}")


def retrain(
    root: Path = typer.Argument(..., help="The folder of versions 'lmrec serve' serves."),
    store: str = typer.Option(..., "--store", help=STORE_HELP),
    base: Path | None = typer.Option(
        None, "--base", help="Earlier data (default: what the active version was trained on)."
    ),
    models: str | None = typer.Option(
        None, "--models", "-m", help="Models of the new version (default: the active one's)."
    ),
    holdout: float = typer.Option(
        0.1, "--holdout", help="Share of the newest actions both versions are judged on."
    ),
    k: int = typer.Option(10, "--k", help="NDCG cut-off of the comparison."),
    version: str | None = typer.Option(
        None, "--version", help="Name of the new version folder (default: the time, UTC)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the decision as JSON."),
) -> None:
    """Train a challenger on the active version's data plus the store's events, judge it and
    the active version on the newest actions, save it as a new version, and activate it only
    if its NDCG is not lower (the running service follows within a second). Run it on a
    schedule, e.g. nightly from cron (see docs/learning-loop.md)."""
    from lmrec.data import Dataset
    from lmrec.service.learning import retrain as run
    from lmrec.service.store import open_store

    db = open_store(store, create=False)
    try:
        result = run(
            root, db, base=Dataset.load(base) if base is not None else None,
            models=split_names(models) if models else None, holdout=holdout, k=k,
            version=version,
        )  # fmt: skip
    finally:
        db.close()
    if as_json:
        print(json.dumps(result.to_dict()))
        return
    verdict = "activated" if result.activated else f"kept {result.champion} (not activated)"
    console.print(
        f"{result.version}: NDCG@{k} {result.challenger_ndcg:.4f} against "
        f"{result.champion_ndcg:.4f} for {result.champion} on {result.test_users:,} users' "
        f"newest actions -> {verdict}"
    )
