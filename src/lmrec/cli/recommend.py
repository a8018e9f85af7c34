"""``lmrec recommend``: top-K items for a user from saved artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from lmrec.cli._common import console


def recommend(
    artifacts: Path = typer.Argument(..., help="An artifacts folder (lmrec train)."),
    user: str | None = typer.Option(None, "--user", "-u", help="Raw user id."),
    query: str | None = typer.Option(
        None,
        "--query",
        "-q",
        help="A request in plain language, "
        "e.g. 'a light-hearted space adventure'. With --user it is "
        "blended with the user's ranking; alone it searches the catalog.",
    ),
    query_weight: float = typer.Option(
        0.5, "--query-weight", help="Share of the request in the blend (0..1)."
    ),
    text_encoder: str = typer.Option(
        "all-MiniLM-L6-v2", "--text-encoder", help="Sentence encoder for --query (name or folder)."
    ),
    model: str | None = typer.Option(
        None, "--model", "-m", help="Which saved model (default: the first)."
    ),
    k: int = typer.Option(10, "--k", help="How many items."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Recommend items for a user, or for a request in plain language, or both.

    An unknown user gets the popularity fallback (or, with --query, pure search).
    """
    from lmrec.artifacts import Artifacts
    from lmrec.errors import UsageError

    if not 1 <= k <= 1000:
        raise UsageError(f"--k must be between 1 and 1000, not {k}")
    if user is None and query is None:
        raise UsageError("give --user, --query or both")
    if not 0.0 <= query_weight <= 1.0:
        raise UsageError(f"--query-weight must be between 0 and 1, not {query_weight}")
    art = Artifacts.open(artifacts)
    rec = art.model(model)
    idx = -1 if user is None else art.user_vocab.index(user)
    if query is not None:
        from lmrec.logic import blend_query
        from lmrec.text import encode_items

        emb = encode_items(art.items["text"].fill_null("").to_list(), text_encoder)
        q = encode_items([query], text_encoder, use_cache=False)[0]
        ids, scores = blend_query(rec, idx, emb, q, k, weight=query_weight if idx >= 0 else 1.0)
    else:
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
    fallback = idx < 0 and query is None
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
