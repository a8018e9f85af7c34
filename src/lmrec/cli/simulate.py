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
    model: str | None = typer.Option(
        None, "--model", "-m", help="Model name (pop, itemknn, sequential...); not with --url."
    ),
    url: str | None = typer.Option(
        None,
        "--url",
        help="Play the users against the service at this URL over HTTP instead "
        "(it serves its own model; clicks are posted as events tied to each list).",
    ),
    key: str | None = typer.Option(
        None,
        "--key",
        envvar="LMREC_API_KEY",
        help="With --url: an API key with the read and events scopes (default: $LMREC_API_KEY).",
    ),
    users: int | None = typer.Option(
        None, "--users", help="With --url: play only this many users (the first by id)."
    ),
    click_prob: float = typer.Option(
        1.0, "--click-prob", help="With --url: the chance a user clicks a shown item they liked."
    ),
    concurrency: int = typer.Option(8, "--concurrency", help="With --url: users at once."),
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
    real-time feedback (clicks re-score the next round), with and without re-ranking; or,
    with --url, play them against a running service (to rehearse an experiment)."""
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
    if url is not None:
        if model is not None or param:
            raise UsageError("--url plays against the service's own model: drop --model/--param")
        _live(split, dataset, protocol, url, key, users, rounds, k, click_prob, concurrency,
              like_threshold, seed, out, progress)  # fmt: skip
        return
    if model is None:
        raise UsageError("give --model (or --url to play against a running service)")
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


def _live(
    split: Path | None, dataset: Path | None, protocol: Protocol, url: str, key: str | None,
    users: int | None, rounds: int, k: int, click_prob: float, concurrency: int,
    like_threshold: float, seed: int, out: Path, progress: bool,
) -> None:  # fmt: skip
    import polars as pl

    from lmrec.data import Dataset, Split, split_dataset
    from lmrec.errors import UsageError
    from lmrec.simulate.live import LiveConfig, liked_by_user, simulate_live

    if not 0.0 < click_prob <= 1.0:
        raise UsageError(f"--click-prob must be in (0, 1], not {click_prob}")
    if not 1 <= concurrency <= 256:
        raise UsageError(f"--concurrency must be 1..256, not {concurrency}")
    if users is not None and users < 1:
        raise UsageError(f"--users must be >= 1, not {users}")
    s = Split.load(split) if split is not None else split_dataset(
        Dataset.load(dataset), protocol.value, seed=seed)  # type: ignore[arg-type]  # fmt: skip
    liked = liked_by_user(pl.concat([s.valid, s.test], how="diagonal_relaxed"), like_threshold)
    if users is not None:
        liked = {u: liked[u] for u in sorted(liked)[:users]}
    cfg = LiveConfig(rounds=rounds, k=k, click_prob=click_prob, concurrency=concurrency,
                     seed=seed, progress=progress)  # fmt: skip
    result = simulate_live(url, key, liked, cfg)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    table = Table(title=f"{result['users']} simulated users against {url}, {rounds} lists of {k}")
    for col in ("variant", "users", "lists", "impressions", "clicks", "CTR [95% CI]"):
        table.add_column(col, justify="right")
    for name, v in result["variants"].items():
        c = v["ctr"]
        bounds = c["ci95"] or [None, None]
        ci = "-" if None in bounds else f"[{bounds[0]:.4f}, {bounds[1]:.4f}]"
        ctr = "-" if c["mean"] is None else f"{c['mean']:.4f} {ci}"
        table.add_row(name, str(v["users"]), str(v["lists"]), str(v["impressions"]),
                      str(v["clicks"]), ctr)  # fmt: skip
    console.print(table)
    console.print(f"written: {out}")
