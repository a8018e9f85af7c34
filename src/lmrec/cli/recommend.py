"""``lmrec recommend``: top-K items for a user from saved artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from lmrec.cli._common import (
    EngineName,
    Runtime,
    console,
    engine_option,
    master_option,
    spark_for,
)


def recommend(
    artifacts: Path = typer.Argument(..., help="An artifacts folder (lmrec train)."),
    user: str | None = typer.Option(None, "--user", "-u", help="Raw user id."),
    users: str | None = typer.Option(
        None,
        "--users",
        help="Batch: 'all' (every user of the artifacts) or a file of user ids (one per line, "
        "or a user_id column in CSV/Parquet); needs --out.",
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="With --users: the Parquet file of top-k lists (user_id, item_id, rank, score, "
        "reason).",
    ),
    batch_size: int = typer.Option(1024, "--batch-size", help="With --users: users per batch."),
    no_reasons: bool = typer.Option(
        False, "--no-reasons", help="With --users: leave the reason column empty (faster)."
    ),
    query: str | None = typer.Option(
        None,
        "--query",
        "-q",
        help="A request in plain language, "
        "e.g. 'a light-hearted space adventure'. With --user it is "
        "blended with the user's ranking; alone it searches the catalog.",
    ),
    cart: str | None = typer.Option(
        None,
        "--cart",
        help="Comma-separated item ids already in the cart: recommend what goes with them "
        "(with --user, after that user's history).",
    ),
    allow_substitutes: bool = typer.Option(
        False,
        "--allow-substitutes",
        help="With --cart: also recommend near-substitutes of cart items "
        "(same category, very similar text).",
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
    ads: bool = typer.Option(
        False, "--ads", help="Rank ads for --user by pCTR x bid (needs 'lmrec train --task ctr')."
    ),
    context: str | None = typer.Option(
        None,
        "--context",
        help="key=value,... e.g. device=mobile,location=home,time=2026-11-28T20:00: shifts a "
        "user's ranking toward what is chosen in that context; with --ads, a CTR feature.",
    ),
    candidates: str | None = typer.Option(
        None,
        "--candidates",
        help="With --ads: comma-separated ad ids to choose from (default all).",
    ),
    min_pctr: float = typer.Option(0.0, "--min-pctr", help="With --ads: hide ads below this pCTR."),
    frequency_cap: int | None = typer.Option(
        None, "--frequency-cap", help="With --ads: hide ads the user has seen this many times."
    ),
    rerank: float | None = typer.Option(
        None,
        "--rerank",
        help="Re-rank for diversity and exposure at this strength (0..1; "
        "the evaluated default is 0.3).",
    ),
    store: str = typer.Option(
        "sqlite:///:memory:",
        "--store",
        help="With --user: the service's store, so fresh events and profile edits count.",
    ),
    runtime: Runtime = typer.Option(
        Runtime.auto,
        "--runtime",
        help="What scores a neural model: onnx (the graphs 'lmrec export' wrote), torch, or "
        "auto (onnx where those graphs are there).",
    ),
    k: int = typer.Option(10, "--k", help="How many items."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    engine_name: EngineName = engine_option(),
    master: str | None = master_option(),
) -> None:
    """Recommend items for a user, for a request in plain language, or for a cart.

    An unknown user gets the popularity fallback (or, with --query, pure search). With --cart
    the items in the cart and their near-substitutes are left out.
    """
    from lmrec.artifacts import Artifacts
    from lmrec.errors import UsageError

    if not 1 <= k <= 1000:
        raise UsageError(f"--k must be between 1 and 1000, not {k}")
    if users is not None or out is not None:
        if users is None or out is None:
            raise UsageError("a batch needs both --users (all or a file) and --out FILE.parquet")
        if user is not None or query is not None or cart is not None or ads:
            raise UsageError("--users takes none of --user, --query, --cart or --ads")
        if out.suffix != ".parquet" or out.is_dir():
            raise UsageError(f"--out {out}: give a file ending in .parquet (the lists are Parquet)")
        _batch(artifacts, model, users, out, k, batch_size, not no_reasons, runtime.value,
               engine_name, master)  # fmt: skip
        return
    if engine_name is EngineName.spark:
        raise UsageError("--engine spark scores a batch: give --users all (or a file) and --out")
    if ads:
        if query is not None or cart is not None:
            raise UsageError("--ads takes --user and --context, not --query or --cart")
        from lmrec.cli.ads import recommend_ads

        recommend_ads(
            artifacts, user=user, context=context, candidates=candidates, model=model, k=k,
            min_pctr=min_pctr, frequency_cap=frequency_cap, as_json=as_json,
        )  # fmt: skip
        return
    if user is None and query is None and cart is None:
        raise UsageError("give --user, --query, --cart, or --user with one of the others")
    if cart is not None and query is not None:
        raise UsageError("give --cart or --query, not both")
    if not 0.0 <= query_weight <= 1.0:
        raise UsageError(f"--query-weight must be between 0 and 1, not {query_weight}")
    from lmrec.ctr.ads import parse_context
    from lmrec.online import Request, ServingOptions
    from lmrec.rerank import RerankConfig
    from lmrec.service.engine import Engine
    from lmrec.service.store import open_store

    Artifacts.open(artifacts)  # a clear error for a folder that is not one
    names = _split_cart(cart) if cart is not None else None
    if names is not None and not names:
        raise UsageError("--cart is empty: give item ids separated by commas")
    db = open_store(store, create=False)
    try:
        options = ServingOptions(text_encoder=text_encoder, runtime=runtime.value)
        engine = Engine(artifacts, db, model, options=options)
        vocab = engine.active.artifacts.item_vocab
        if names is not None:
            unknown = [n for n in names if n not in vocab]
            if unknown:
                shown = ", ".join(repr(u) for u in unknown[:5])
                raise UsageError(f"--cart: {len(unknown)} unknown item id(s): {shown}")
            result = engine.complete_cart(
                names, k, user_id=user, allow_substitutes=allow_substitutes
            )
            result["cold_start"] = False
        else:
            request = Request(
                user,
                k,
                query=query,
                query_weight=query_weight,
                rerank=None if rerank is None else RerankConfig(strength=rerank),
                context=dict(parse_context(context)) or None,
            )
            result = engine.run(request)
    finally:
        db.close()
    fallback = bool(result["cold_start"]) and query is None and names is None
    rows = [{"rank": r + 1, **item} for r, item in enumerate(result["items"])]
    if as_json:
        answer = {
            "user_id": user,
            **({"cart": names} if names is not None else {}),
            "fallback": "popularity" if fallback else None,
            "items": rows,
        }
        if names is None:
            answer |= {"reranked": result["reranked"], "context_used": result["context_used"]}
        typer.echo(json.dumps(answer, indent=2))
        return
    who = f"user {user}" if user is not None else f"cart {cart}" if cart else f"'{query}'"
    note = " (unknown: popular items)" if fallback else ""
    table = Table(title=f"{result['model']} for {who}{note}")
    reasons = any("reason" in r for r in rows)
    for col in ("rank", "item_id", "title", "score", *(["reason"] if reasons else [])):
        table.add_column(col)
    for r in rows:
        extra = [str(r.get("reason", ""))] if reasons else []
        table.add_row(str(r["rank"]), r["item_id"], str(r["title"]), f"{r['score']:.4f}", *extra)
    console.print(table)


def _split_cart(cart: str) -> list[str]:
    return [c.strip() for c in cart.split(",") if c.strip()]


def _batch(
    artifacts: Path,
    model: str | None,
    users: str,
    out: Path,
    k: int,
    batch_size: int,
    reasons: bool,
    runtime: str,
    engine: EngineName,
    master: str | None,
) -> None:
    from lmrec.batch import batch_recommend, read_user_ids

    ids = None if users == "all" else read_user_ids(users)
    spark = spark_for(engine, master)
    if spark is not None:
        from lmrec.spark import recommend_on_spark

        summary = recommend_on_spark(
            spark, artifacts, out, model=model, users=ids, k=k, batch_size=batch_size,
            reasons=reasons, runtime=runtime,
        )  # fmt: skip
    else:
        summary = batch_recommend(
            artifacts, out, model=model, users=ids, k=k, batch_size=batch_size,
            reasons=reasons, runtime=runtime,
        )  # fmt: skip
    note = (
        f" ({summary['unknown_users']:,} unknown: popular items)"
        if summary["unknown_users"]
        else ""
    )
    console.print(
        f"{summary['model']}: top {k} for {summary['users']:,} users{note}, "
        f"{summary['rows']:,} rows -> {out}"
    )
