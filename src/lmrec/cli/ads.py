"""``lmrec recommend --ads``: rank ads for a user in a context from a trained CTR model."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from lmrec.cli._common import console


def recommend_ads(
    artifacts: Path,
    *,
    user: str | None,
    context: str | None,
    candidates: str | None,
    model: str | None,
    k: int,
    min_pctr: float,
    frequency_cap: int | None,
    as_json: bool,
) -> None:
    from lmrec.ctr.ads import AdPolicy, CTRArtifacts, parse_context, rank_ads
    from lmrec.errors import UsageError

    if user is None:
        raise UsageError("--ads needs --user (an unknown id is fine: context and ads decide)")
    if not 0.0 <= min_pctr <= 1.0:
        raise UsageError(f"--min-pctr must be between 0 and 1, not {min_pctr}")
    if frequency_cap is not None and frequency_cap < 1:
        raise UsageError(f"--frequency-cap must be at least 1, not {frequency_cap}")
    art = CTRArtifacts.open(artifacts)
    ctx = parse_context(context)
    pool = None
    if candidates is not None:
        pool = [c.strip() for c in candidates.split(",") if c.strip()]
        if not pool:
            raise UsageError("--candidates is empty")
    ranked = rank_ads(
        art.model(model),
        art.encoder,
        user_id=user,
        users=art.users,
        items=art.items,
        context=ctx,
        candidates=pool,
        impressions=art.impressions_of(user),
        history=art.history,
        k=k,
        policy=AdPolicy(min_pctr=min_pctr, frequency_cap=frequency_cap),
    )
    known = user in set(art.users["user_id"].to_list())
    if as_json:
        typer.echo(
            json.dumps(
                {"user_id": user, "known_user": known, "context": ctx, "ads": ranked.to_dicts()},
                indent=2,
            )
        )
        return
    table = Table(title=f"ads for user {user}" + ("" if known else " (unknown user)"))
    for col in ("rank", "item_id", "title", "pCTR", "bid", "expected value"):
        table.add_column(col)
    for rank, r in enumerate(ranked.iter_rows(named=True), start=1):
        table.add_row(
            str(rank), r["item_id"], str(r["title"]), f"{r['pctr']:.4f}", f"{r['bid']:.2f}",
            f"{r['expected_value']:.4f}",
        )  # fmt: skip
    console.print(table)
