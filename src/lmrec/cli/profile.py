"""``lmrec profile``: what the recommender thinks a user likes, and the user's edits to it."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from lmrec.cli._common import console


def profile(
    artifacts: Path = typer.Argument(..., help="An artifacts folder (lmrec train)."),
    user: str = typer.Option(..., "--user", "-u", help="Raw user id."),
    store: str = typer.Option(
        "sqlite:///lmrec-store.db",
        "--store",
        help="The service's store (events and edits live there; edits are saved there).",
    ),
    mute: list[str] = typer.Option([], "--mute", help="Mute a category (repeatable)."),
    unmute: list[str] = typer.Option([], "--unmute", help="Unmute a category (repeatable)."),
    remove: list[str] = typer.Option(
        [], "--remove", help="Remove an item from the user's interests (repeatable)."
    ),
    restore: list[str] = typer.Option([], "--restore", help="Undo --remove (repeatable)."),
    model: str | None = typer.Option(None, "--model", "-m", help="Which saved model."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a user's profile (interests by category, favourites, activity) and edit it.

    Muting a category or removing an item changes the user's next recommendations, here and
    in 'lmrec serve' on the same store.
    """
    from lmrec.errors import UsageError
    from lmrec.service.engine import Engine
    from lmrec.service.store import open_store

    db = open_store(store)
    try:
        engine = Engine(artifacts, db, model)
        vocab = engine.active.artifacts.item_vocab
        unknown = [i for i in remove if i not in vocab]
        if unknown:
            raise UsageError(f"unknown item id(s) for --remove: {', '.join(unknown[:5])}")
        if mute or unmute or remove or restore:
            prof = engine.edit_profile(
                user, mute=mute, unmute=unmute, remove=remove, restore=restore
            )
        else:
            prof = engine.profile(user)
    finally:
        db.close()
    if as_json:
        typer.echo(json.dumps(prof, indent=2))
        return
    act = prof["activity"]
    console.print(
        f"user {user}: {act['interactions']} interactions"
        + ("" if prof["known"] else " (not in the training data)")
    )
    table = Table(title="interests (recent actions weigh more)")
    for col in ("category", "share", "muted"):
        table.add_column(col)
    for c in prof["interests"]:
        table.add_row(c["category"], f"{c['share']:.1%}", "muted" if c["muted"] else "")
    console.print(table)
    if prof["favourites"]:
        console.print("favourites: " + "; ".join(str(f["title"]) for f in prof["favourites"]))
    if prof["edits"]["removed_items"]:
        console.print("removed from interests: " + ", ".join(prof["edits"]["removed_items"]))
