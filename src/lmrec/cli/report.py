"""``lmrec report``: reports from what the service recorded."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer
from rich.table import Table

from lmrec.cli._common import console

app = typer.Typer(help="Reports from the service's store.", no_args_is_help=True)


def parse_time(value: str | None, flag: str, default: float) -> float:
    """Unix seconds or an ISO 8601 date-time (UTC unless it says so)."""
    import datetime as dt

    from lmrec.errors import UsageError

    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        pass
    try:
        d = dt.datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{flag}: '{value}' is neither Unix seconds nor ISO 8601") from None
    return (d if d.tzinfo else d.replace(tzinfo=dt.UTC)).timestamp()


@app.command("online")
def online(
    store: str = typer.Option(
        ...,
        "--store",
        help="The service's store URL (sqlite:///... or "
        "postgresql://...); its secret key file must be readable.",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for online.json, online.html."),
    artifacts: Path | None = typer.Option(
        None,
        "--artifacts",
        help="The served version's artifacts: catalog size for coverage "
        "and categories for diversity.",
    ),
    since: str | None = typer.Option(
        None, "--since", help="Unix seconds or ISO 8601 (default: a day before --until)."
    ),
    until: str | None = typer.Option(
        None, "--until", help="Unix seconds or ISO 8601 (default: now)."
    ),
    k: int = typer.Option(10, "--k", help="CTR@K: clicks on the top K items shown."),
) -> None:
    """Online metrics of the lists the service served: CTR@K with its interval, CTR by
    position, conversion, coverage, diversity and latency per model version and variant, and
    a page with plots over time."""
    from lmrec.errors import UsageError
    from lmrec.service.measure import online_metrics
    from lmrec.service.online_report import write_online_html
    from lmrec.service.store import open_store

    if not 1 <= k <= 100:
        raise UsageError(f"--k must be 1..100, not {k}")
    end = parse_time(until, "--until", time.time() + 1.0)
    start = parse_time(since, "--since", end - 86400.0)
    catalog_size, categories = 0, None
    if artifacts is not None:
        from lmrec.online import discover_versions, load_version

        name, path = sorted(discover_versions(artifacts).items())[-1]
        v = load_version(name, path)
        catalog_size = v.n_items
        cats = {i: c for i, (_, c) in v.catalog.items()}
        categories = (lambda i: cats.get(i, [])) if any(cats.values()) else None
    opened = open_store(store, create=False)
    try:
        served = opened.impressions(start, end)
    finally:
        opened.close()
    if not served:
        raise UsageError(f"the store {store} recorded no served list in that window")
    data = {
        "since": start,
        "until": end,
        **online_metrics(served, k=k, catalog_size=catalog_size, categories=categories),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "online.json").write_text(json.dumps(data, indent=2) + "\n")
    write_online_html(out / "online.html", data, store)
    table = Table(title=f"{data['lists']} lists served")
    for col in ("version", "variant", "lists", "users", f"CTR@{k} [95% CI]", "cart", "coverage",
                "p95 ms"):  # fmt: skip
        table.add_column(col, justify="right")
    for g in data["groups"]:
        c = g["ctr"]
        ctr = "-" if c["mean"] is None else (
            f"{c['mean']:.4f}" + ("" if c["ci95"] is None or c["ci95"][0] is None else
                                  f" [{c['ci95'][0]:.4f}, {c['ci95'][1]:.4f}]"))  # fmt: skip
        cart = g["conversion"]["cart"]
        p95 = g["latency_ms"]["p95"]
        table.add_row(
            g["version"], g["variant"] or "-", str(g["lists"]), str(g["users"]), ctr,
            f"{cart:.3f}", "-" if g["coverage"] is None else f"{g['coverage']:.3f}",
            "-" if p95 is None else f"{p95:.1f}",
        )  # fmt: skip
    console.print(table)
    console.print(f"report: {out / 'online.html'}  (json: {out / 'online.json'})")
