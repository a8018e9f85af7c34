"""A self-contained HTML report: tables of metrics with intervals and embedded PNG plots."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from lmrec.evaluation.runner import ModelResult

__all__ = ["NO_PLOTS", "figure_png", "write_html"]

#: What a report shows in place of its plots when matplotlib is not installed.
NO_PLOTS = "<p>The plots need matplotlib: <code>pip install 'lmrec[plots]'</code>.</p>"


def figure_png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _plots(
    report: dict[str, Any],
    results: dict[str, ModelResult],
    item_counts: np.ndarray,
    held_items: np.ndarray,
) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = report["k"]
    names = list(report["models"])
    out = []
    labels = [f"NDCG@{k}", f"HR@{k}", f"Recall@{k}", f"MRR@{k}"]
    fig, axes = plt.subplots(1, len(labels), figsize=(4 * len(labels), 3.4))
    for ax, label in zip(axes, labels, strict=True):
        means = [report["models"][n]["metrics"][label]["mean"] for n in names]
        lo = [report["models"][n]["metrics"][label]["ci95"][0] for n in names]
        hi = [report["models"][n]["metrics"][label]["ci95"][1] for n in names]
        err = np.array([np.subtract(means, lo), np.subtract(hi, means)])
        ax.bar(names, means, yerr=err, capsize=4, color="#4C72B0")
        ax.set_title(label)
        ax.tick_params(axis="x", rotation=30)
    fig.suptitle("Accuracy with 95% bootstrap intervals", y=1.04)
    out.append(("Accuracy", figure_png(fig)))
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for n in names:
        m = report["models"][n]["metrics"]
        ax.scatter(m[f"Coverage@{k}"]["mean"], m[f"NDCG@{k}"]["mean"], s=50)
        ax.annotate(
            n,
            (m[f"Coverage@{k}"]["mean"], m[f"NDCG@{k}"]["mean"]),
            textcoords="offset points",
            xytext=(5, 5),
        )
    ax.set_xlabel(f"Catalog coverage@{k}")
    ax.set_ylabel(f"NDCG@{k}")
    ax.set_title("Accuracy vs coverage")
    ax.grid(alpha=0.3)
    out.append(("Accuracy vs coverage", figure_png(fig)))
    plt.close(fig)

    counts = item_counts
    fig, ax = plt.subplots(figsize=(7, 4))
    bins = np.logspace(0, np.log10(max(2.0, counts.max() + 1)), 30).tolist()
    held = held_items
    ax.hist(
        counts[held] + 1,
        bins=bins,
        histtype="step",
        lw=2,
        color="black",
        label="held-out items",
        density=True,
    )
    for n in names:
        recs = results[n].recs
        ax.hist(
            counts[recs[recs >= 0]] + 1, bins=bins, histtype="step", lw=1.5, label=n, density=True
        )
    ax.set_xscale("log")
    ax.set_xlabel("training popularity of recommended items (users + 1, log scale)")
    ax.set_ylabel("density")
    ax.set_title("Recommended-popularity distribution")
    ax.legend(fontsize=8)
    out.append(("Popularity of recommendations", figure_png(fig)))
    plt.close(fig)
    if report.get("rerank_sweep"):
        out.append(("Re-ranking strength", _sweep_plot(report["rerank_sweep"], k)))
    return out


def _sweep_plot(sweep: dict[str, list[dict[str, Any]]], k: int) -> str:
    """NDCG@k against ILD, coverage and novelty as the re-ranking strength grows (the default
    strength ringed)."""
    import matplotlib.pyplot as plt

    others = [f"ILD@{k}", f"Coverage@{k}", f"Novelty@{k}"]
    fig, axes = plt.subplots(1, len(others), figsize=(4.5 * len(others), 3.6))
    fig.subplots_adjust(wspace=0.35)  # room for each panel's NDCG label
    for ax, label in zip(axes, others, strict=True):
        for name, rows in sweep.items():
            kept = [r for r in rows if r[label] is not None]
            xs = [r[label] for r in kept]
            ys = [r[f"NDCG@{k}"] for r in kept]
            ax.errorbar(xs, ys, yerr=_ndcg_error(kept, k), marker="o", ms=3, capsize=2,
                        label=name)  # fmt: skip
            for r in rows:
                if r.get("default") and r[label] is not None:
                    ax.scatter([r[label]], [r[f"NDCG@{k}"]], s=90, facecolors="none",
                               edgecolors="black")  # fmt: skip
        ax.set_xlabel(label)
        ax.set_ylabel(f"NDCG@{k}")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(
        "Re-ranking strength 0 (model order) to 0.9; ring = default; bars = 95% paired "
        "interval of the NDCG change",
        y=1.03,
    )
    png = figure_png(fig)
    plt.close(fig)
    return png


def _ndcg_error(rows: list[dict[str, Any]], k: int) -> list[list[float]]:
    """Below and above each row's NDCG@k: its paired interval of the change from strength 0
    (rows before intervals were reported, or with none, get no bar)."""
    plain = rows[0][f"NDCG@{k}"] if rows else 0.0
    below, above = [], []
    for r in rows:
        ci = r.get(f"NDCG@{k} change ci95")
        y = r[f"NDCG@{k}"]
        below.append(0.0 if ci is None else max(0.0, y - plain * (1 + ci[0])))
        above.append(0.0 if ci is None else max(0.0, plain * (1 + ci[1]) - y))
    return [below, above]


def _table(report: dict[str, Any]) -> str:
    names = list(report["models"])
    labels = list(report["models"][names[0]]["metrics"]) if names else []
    head = "".join(f"<th>{html.escape(lbl)}</th>" for lbl in labels)
    rows = []
    for n in names:
        e = report["models"][n]
        cells = "".join(
            f"<td>{e['metrics'][lbl]['mean']:.4f}<br><small>[{e['metrics'][lbl]['ci95'][0]:.4f}, "
            f"{e['metrics'][lbl]['ci95'][1]:.4f}]</small></td>"
            for lbl in labels
        )
        rows.append(
            f"<tr><th>{html.escape(n)}</th>{cells}<td>{e['fit_seconds']:.2f}</td>"
            f"<td>{e['users_per_second']:.0f}</td></tr>"
        )
    return (
        f"<table><tr><th>model</th>{head}<th>fit s</th><th>users/s</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _segments(report: dict[str, Any]) -> str:
    k = report["k"]
    rows = []
    for n, e in report["models"].items():
        for seg, s in e["segments"].items():
            m = s["metrics"]
            rows.append(
                f"<tr><td>{html.escape(n)}</td><td>{seg}</td><td>{s['n']}</td>"
                f"<td>{m[f'NDCG@{k}']['mean']:.4f}</td><td>{m[f'HR@{k}']['mean']:.4f}</td>"
                f"<td>{m[f'Recall@{k}']['mean']:.4f}</td><td>{html.escape(s['definition'])}</td></tr>"
            )
    return (
        "<table><tr><th>model</th><th>segment</th><th>n</th><th>NDCG</th><th>HR</th>"
        "<th>Recall</th><th>definition</th></tr>" + "".join(rows) + "</table>"
    )


def _params(report: dict[str, Any]) -> str:
    rows = []
    for n, e in report["models"].items():
        cfg = e["config"]
        dp = e.get("privacy")
        budget = f"ε = {dp['epsilon']:g}, δ = {dp['delta']:g}" if dp else "none"
        rows.append(
            f"<tr><td>{html.escape(n)}</td><td>{html.escape(cfg['class'])}</td>"
            f"<td><code>{html.escape(str(cfg['params']))}</code></td>"
            f"<td>{len(cfg['tuning'])}</td><td>{html.escape(budget)}</td></tr>"
        )
    return (
        "<table><tr><th>model</th><th>class</th><th>chosen parameters</th>"
        "<th>settings tried</th><th>privacy guarantee</th></tr>" + "".join(rows) + "</table>"
    )


def _comparisons(report: dict[str, Any]) -> str:
    rows = [
        f"<tr><td>{c['a']} − {c['b']}</td><td>{c['metric']}</td><td>{c['diff']:+.4f}</td>"
        f"<td>[{c['ci95'][0]:+.4f}, {c['ci95'][1]:+.4f}]</td><td>{c['p_value']:.4f}</td></tr>"
        for c in report["comparisons"]
    ]
    return (
        "<table><tr><th>pair</th><th>metric</th><th>difference</th><th>95% CI</th>"
        "<th>p (paired bootstrap)</th></tr>" + "".join(rows) + "</table>"
    )


def write_html(
    path: Path,
    report: dict[str, Any],
    results: dict[str, ModelResult],
    *,
    item_counts: np.ndarray,
    held_items: np.ndarray,
    protocol: str | None = None,
) -> None:
    """``item_counts``: training popularity per item; ``held_items``: the held-out item of every
    test case (for the popularity plot); ``protocol``: one sentence on how lists were ranked."""
    try:
        plots = "".join(
            f"<h3>{html.escape(t)}</h3><img alt='{html.escape(t)}' src='data:image/png;base64,{img}'>"
            for t, img in _plots(report, results, item_counts, held_items)
        )
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != "matplotlib":
            raise
        plots = NO_PLOTS
    protocol = protocol or (
        f"Full ranking over all {report['counts']['items']} items, each user's earlier items "
        "excluded"
    )
    split = html.escape(str(report["split"]))
    counts = html.escape(str(report["counts"]))
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lmrec evaluation report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1300px; }}
table {{ border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }}
th, td {{ border: 1px solid #ccc; padding: 0.3rem 0.5rem; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
small {{ color: #666; }} img {{ max-width: 100%; }}
</style></head><body>
<h1>lmrec evaluation report</h1>
<p>{html.escape(protocol)}; K = {report["k"]}; 95% intervals by bootstrap over test cases.</p>
<p><b>Split:</b> {split}<br><b>Counts:</b> {counts}</p>
<h2>Metrics</h2>{_table(report)}
<h2>Plots</h2>{plots}
<h2>Segments</h2>{_segments(report)}
<h2>Paired comparisons with the best model</h2>{_comparisons(report)}
<h2>Chosen hyper-parameters</h2>{_params(report)}
</body></html>
"""
    path.write_text(page)
