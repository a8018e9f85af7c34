"""``lmrec recommend``: top-K items for a user from saved artifacts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import typer
from rich.table import Table

from lmrec.cli._common import console

if TYPE_CHECKING:
    from lmrec.artifacts import Artifacts
    from lmrec.models.base import Recommender


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
    k: int = typer.Option(10, "--k", help="How many items."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Recommend items for a user, for a request in plain language, or for a cart.

    An unknown user gets the popularity fallback (or, with --query, pure search). With --cart
    the items in the cart and their near-substitutes are left out.
    """
    from lmrec.artifacts import Artifacts
    from lmrec.errors import UsageError

    if not 1 <= k <= 1000:
        raise UsageError(f"--k must be between 1 and 1000, not {k}")
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
    art = Artifacts.open(artifacts)
    rec = art.model(model)
    idx = -1 if user is None else art.user_vocab.index(user)
    reasons: dict[int, str] = {}
    if cart is not None:
        ids, scores, reasons = _complete(art, rec, cart, idx, k, text_encoder, allow_substitutes)
    elif query is not None:
        from lmrec.explain import query_reason
        from lmrec.logic import blend_query
        from lmrec.text import encode_items

        emb = encode_items(art.items["text"].fill_null("").to_list(), text_encoder)
        q = encode_items([query], text_encoder, use_cache=False)[0]
        ids, scores = blend_query(rec, idx, emb, q, k, weight=query_weight if idx >= 0 else 1.0)
        reason = query_reason(query, with_history=idx >= 0 and query_weight < 1.0).text
        reasons = {int(i): reason for i in ids}
    else:
        from lmrec.ctr.ads import parse_context

        ctx = parse_context(context)
        _for_user(artifacts, user or "", model, store, k, rerank, text_encoder, as_json, ctx)
        return
    keep = ids >= 0
    titles = art.items["title"].to_list()
    rows = [
        {
            "rank": r + 1,
            "item_id": art.item_vocab.raw(int(i)),
            "title": titles[int(i)],
            "score": float(s),
            **({"reason": reasons[int(i)]} if int(i) in reasons else {}),
        }
        for r, (i, s) in enumerate(zip(ids[keep], scores[keep], strict=True))
    ]
    fallback = idx < 0 and query is None and cart is None
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "user_id": user,
                    **({"cart": _split_cart(cart)} if cart is not None else {}),
                    "fallback": "popularity" if fallback else None,
                    "items": rows,
                },
                indent=2,
            )
        )
        return
    who = f"cart {cart}" if cart is not None and user is None else f"user {user}"
    table = Table(title=f"{rec.name} for {who}" + (" (unknown: popular items)" if fallback else ""))
    for col in ("rank", "item_id", "title", "score", *(["reason"] if reasons else [])):
        table.add_column(col)
    for r in rows:
        extra = [str(r.get("reason", ""))] if reasons else []
        table.add_row(str(r["rank"]), r["item_id"], str(r["title"]), f"{r['score']:.4f}", *extra)
    console.print(table)


def _for_user(
    artifacts: Path,
    user: str,
    model: str | None,
    store_url: str,
    k: int,
    strength: float | None,
    text_encoder: str,
    as_json: bool,
    context: dict[str, str],
) -> None:
    """The service's path for one user: fresh events and profile edits from the store,
    optional re-ranking, and a reason from the model's own signals for every item."""
    from lmrec.rerank import RerankConfig
    from lmrec.service.engine import Engine
    from lmrec.service.store import open_store

    store = open_store(store_url)
    try:
        engine = Engine(artifacts, store, model, text_encoder=text_encoder)
        cfg = None if strength is None else RerankConfig(strength=strength)
        ctx: dict[str, str | None] = dict(context)
        result = engine.recommend(user, k, rerank=cfg, context=ctx or None)
    finally:
        store.close()
    if as_json:
        out = {
            "user_id": user,
            "fallback": "popularity" if result["cold_start"] else None,
            "items": [{"rank": r + 1, **i} for r, i in enumerate(result["items"])],
            "reranked": result["reranked"],
            "context_used": result["context_used"],
        }
        typer.echo(json.dumps(out, indent=2))
        return
    note = " (unknown: popular items)" if result["cold_start"] else ""
    table = Table(title=f"{result['model']} for user {user}{note}")
    for col in ("rank", "item_id", "title", "score", "reason"):
        table.add_column(col)
    for r, i in enumerate(result["items"]):
        table.add_row(str(r + 1), i["item_id"], str(i["title"]), f"{i['score']:.4f}", i["reason"])
    console.print(table)


def _split_cart(cart: str) -> list[str]:
    return [c.strip() for c in cart.split(",") if c.strip()]


def _complete(
    art: Artifacts,
    rec: Recommender,
    cart: str,
    user_idx: int,
    k: int,
    text_encoder: str,
    allow_substitutes: bool,
) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Complements for ``cart`` (comma-separated raw ids), with a rule as reason for ``rules``."""
    from lmrec.cart import complete_carts, substitute_matrix
    from lmrec.errors import UsageError
    from lmrec.models.rules import AssociationRules
    from lmrec.text import encode_items

    names = _split_cart(cart)
    if not names:
        raise UsageError("--cart is empty: give item ids separated by commas")
    unknown = [n for n in names if n not in art.item_vocab]
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:5])
        raise UsageError(f"--cart: {len(unknown)} unknown item id(s): {shown}")
    items = art.item_vocab.indices(names).astype(np.int64)
    subs = None
    if not allow_substitutes:
        emb = encode_items(art.items["text"].fill_null("").to_list(), text_encoder)
        cats = (
            [c or [] for c in art.items["categories"].to_list()]
            if "categories" in art.items.columns
            else [[] for _ in range(len(emb))]
        )
        subs = substitute_matrix(emb, cats)
    users = np.array([user_idx]) if user_idx >= 0 else None
    ids, scores = complete_carts(rec, [items], k, users=users, substitutes=subs)
    reasons: dict[int, str] = {}
    if isinstance(rec, AssociationRules):
        titles = art.items["title"].to_list()
        for i in ids[0][ids[0] >= 0]:
            rule = rec.strongest_rule(items, int(i))
            if rule is not None:
                reasons[int(i)] = f"with {titles[rule[0]]} (confidence {rule[1]:.2f})"
    return ids[0], scores[0], reasons
