"""The online report (``lmrec report online``): one self-contained HTML page of what served
lists did, per model version and variant, with plots over time."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from lmrec.evaluation.html import NO_PLOTS, figure_png

__all__ = ["write_online_html"]


def _fmt(x: Any, digits: int = 4) -> str:
    return "-" if x is None else f"{x:.{digits}f}" if isinstance(x, float) else html.escape(str(x))


def _label(g: dict[str, Any]) -> str:
    return g["version"] if g.get("variant") is None else f"{g['version']} / {g['variant']}"


def _plots(data: dict[str, Any]) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import datetime as dt

    import matplotlib.pyplot as plt

    out = []
    series: dict[str, list[tuple[dt.datetime, float | None, int]]] = {}
    for row in data["timeline"]:
        key = _label(row)
        when = dt.datetime.fromtimestamp(row["start"], tz=dt.UTC)
        series.setdefault(key, []).append((when, row["ctr"], row["lists"]))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for key, rows in sorted(series.items()):
        top.plot([r[0] for r in rows], [r[1] for r in rows], marker="o", label=key)
        bottom.plot([r[0] for r in rows], [r[2] for r in rows], marker="o", label=key)
    top.set_ylabel(f"CTR@{data['k']}")
    bottom.set_ylabel("lists served")
    bottom.set_xlabel(f"UTC (buckets of {data['bucket_s'] / 60:g} min)")
    top.legend(fontsize=8)
    top.grid(alpha=0.3)
    bottom.grid(alpha=0.3)
    fig.autofmt_xdate()
    out.append(("CTR and traffic over time", figure_png(fig)))
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(9, 3.5))
    for g in data["groups"]:
        ys = g["position_ctr"]
        ax.plot(range(1, len(ys) + 1), [y if y is not None else float("nan") for y in ys],
                marker="o", label=_label(g))  # fmt: skip
    ax.set_xlabel("position")
    ax.set_ylabel("CTR")
    ax.set_title("CTR by position")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    out.append(("CTR by position", figure_png(fig)))
    plt.close(fig)
    return out


def write_online_html(path: Path, data: dict[str, Any], where: str) -> None:
    """Write the report of :func:`lmrec.service.measure.online_metrics` ``data`` to ``path``."""
    try:
        plots = "".join(
            f"<h2>{html.escape(t)}</h2><img alt='{html.escape(t)}' "
            f"src='data:image/png;base64,{img}'>"
            for t, img in _plots(data)
        )
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != "matplotlib":
            raise
        plots = NO_PLOTS
    k = data["k"]
    rows = "".join(
        "<tr>" + "".join(f"<td>{c}</td>" for c in (
            html.escape(g["version"]), html.escape(g["variant"] or "-"), g["lists"], g["users"],
            g["impressions"], g["clicks"], _ctr(g["ctr"]), _fmt(g["conversion"]["cart"]),
            _fmt(g["conversion"]["purchase"]), _fmt(g["coverage"]), _fmt(g["diversity"]),
            _fmt(g["latency_ms"]["p50"], 1), _fmt(g["latency_ms"]["p95"], 1),
        )) + "</tr>"
        for g in data["groups"]
    )  # fmt: skip
    head = "".join(f"<th>{h}</th>" for h in (
        "version", "variant", "lists", "users", "impressions", "clicks",
        f"CTR@{k} [95% CI]", "cart rate", "purchase rate", "coverage", "diversity",
        "p50 ms", "p95 ms",
    ))  # fmt: skip
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lmrec online report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1300px; }}
table {{ border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }}
th, td {{ border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: right; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>What served lists did</h1>
<p>Store {html.escape(where)}; {data["lists"]} lists served between
{_fmt(data["since"], 0)} and {_fmt(data["until"], 0)} (Unix seconds). A click is an event of
type click, cart or purchase tied to a list (its <code>recommendation_id</code>) on one of its
items; CTR@{k} is clicks over items shown in the top {k}, with its 95% interval over users.</p>
<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>
{plots}
</body></html>
"""
    path.write_text(page, encoding="utf-8")


def _ctr(c: dict[str, Any]) -> str:
    if c["mean"] is None:
        return "-"
    ci = "" if c["ci95"] is None else f" [{_fmt(c['ci95'][0])}, {_fmt(c['ci95'][1])}]"
    return f"{c['mean']:.4f}{ci}"
