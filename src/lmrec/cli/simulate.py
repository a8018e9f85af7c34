"""``lmrec simulate``: simulated sessions with and without real-time feedback and re-ranking."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from lmrec.cli._common import Protocol, console, parse_params
from lmrec.rerank.config import DEFAULT_STRENGTH


def simulate(
    split: Path | None = typer.Option(None, "--split", "-s", help="A split folder."),
    dataset: Path | None = typer.Option(
        None, "--dataset", "-d", help="Or a dataset folder, split here with --protocol."
    ),
    protocol: Protocol = typer.Option(
        Protocol.temporal, "--protocol", help="With --dataset: how to split it."
    ),
    model: str = typer.Option(
        ..., "--model", "-m", help="Model name (pop, itemknn, sequential...)."
    ),
    rounds: int = typer.Option(10, "--rounds", help="Rounds per session."),
    k: int = typer.Option(10, "--k", help="Items shown per round."),
    like_threshold: float = typer.Option(
        4.0, "--like-threshold", help="Simulated users click held-out items valued >= this."
    ),
    rerank: float = typer.Option(
        DEFAULT_STRENGTH, "--rerank", help="Strength of the re-ranked real-time policy."
    ),
    no_rerank: bool = typer.Option(False, "--no-rerank", help="Skip the re-ranked policy."),
    param: list[str] = typer.Option([], "--param", help="MODEL.NAME=VALUE (repeatable)."),
    text_encoder: str | None = typer.Option(
        None, "--text-encoder", help="Text similarity for the re-ranker's diversity."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for the split and the intervals."),
    out: Path = typer.Option(..., "--out", "-o", help="JSON file to write."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
) -> None:
    """Simulated users click the held-out items they rated >= 4. Compare a static list with
    real-time feedback (clicks re-score the next round), with and without re-ranking."""
    from lmrec.data import Dataset, Split, split_dataset
    from lmrec.errors import UsageError
    from lmrec.models.registry import get_model_class
    from lmrec.rerank import RerankConfig
    from lmrec.simulate import SimConfig, simulate_split

    if (split is None) == (dataset is None):
        raise UsageError("give exactly one of --split or --dataset")
    if not 1 <= rounds <= 100:
        raise UsageError(f"--rounds must be 1..100, not {rounds}")
    if not 1 <= k <= 100:
        raise UsageError(f"--k must be 1..100, not {k}")
    get_model_class(model)
    fixed = parse_params(param)
    if set(fixed) - {model}:
        raise UsageError(f"--param names a model other than '{model}'")
    if split is not None:
        s = Split.load(split)
    else:
        assert dataset is not None
        data = Dataset.load(dataset)
        s = split_dataset(data, protocol.value, seed=seed)
    rr = None if no_rerank else RerankConfig(strength=rerank)
    cfg = SimConfig(rounds=rounds, k=k, seed=seed, rerank=rr, progress=progress)
    result = simulate_split(
        s, model, cfg, params=fixed.get(model), like_threshold=like_threshold,
        text_encoder=text_encoder,
    )  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    table = Table(title=f"{result['users']} simulated sessions, {rounds} rounds of {k} ({model})")
    for col in (
        "policy",
        "clicks/session [95% CI]",
        "vs static",
        "rounds to 1st click",
        "sessions with a click",
    ):
        table.add_column(col, justify="right")
    for name in ("static", "realtime", "realtime_rerank"):
        if name not in result:
            continue
        r = result[name]
        c = r["clicks_per_session"]
        rel = r.get("clicks_vs_static")
        first = r["rounds_to_first_click"]["mean"]
        table.add_row(
            name,
            f"{c['mean']:.3f} [{c['ci95'][0]:.3f}, {c['ci95'][1]:.3f}]",
            "-" if rel is None else f"{rel:+.1%}",
            "-" if first is None else f"{first:.2f}",
            f"{r['sessions_with_a_click']:.1%}",
        )
    console.print(table)
    console.print(f"written: {out}")
