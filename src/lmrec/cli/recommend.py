"""``lmrec recommend``: top-K items for a user from saved artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from lmrec.cli._common import console


def recommend(
    artifacts: Path = typer.Argument(..., help="An artifacts folder (lmrec train)."),
    user: str = typer.Option(..., "--user", "-u", help="Raw user id."),
    model: str | None = typer.Option(
        None, "--model", "-m", help="Which saved model (default: the first)."
    ),
    k: int = typer.Option(10, "--k", help="How many items."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Recommend items for one user; an unknown user gets the popularity fallback."""
    from lmrec.artifacts import Artifacts
    from lmrec.errors import UsageError

    if not 1 <= k <= 1000:
        raise UsageError(f"--k must be between 1 and 1000, not {k}")
    art = Artifacts.open(artifacts)
    rec = art.model(model)
    idx = art.user_vocab.index(user)
    ids, scores = rec.recommend(idx, k)
    keep = ids >= 0
    titles = art.items["title"].to_list()
    rows = [
        {
            "rank": r + 1,
            "item_id": art.item_vocab.raw(int(i)),
            "title": titles[int(i)],
            "score": float(s),
        }
        for r, (i, s) in enumerate(zip(ids[keep], scores[keep], strict=True))
    ]
    fallback = idx < 0
    if as_json:
        typer.echo(
            json.dumps(
                {"user_id": user, "fallback": "popularity" if fallback else None, "items": rows},
                indent=2,
            )
        )
        return
    table = Table(
        title=f"{rec.name} for user {user}" + (" (unknown: popular items)" if fallback else "")
    )
    for col in ("rank", "item_id", "title", "score"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r["rank"]), r["item_id"], str(r["title"]), f"{r['score']:.4f}")
    console.print(table)
