"""The HTML page of a CTR evaluation: the metrics table and a reliability diagram."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np

from lmrec.evaluation.html import NO_PLOTS, figure_png

__all__ = ["write_ctr_html"]


def _reliability_plot(report: dict[str, Any]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfect calibration")
    for name, e in report["models"].items():
        rel = e["reliability"]
        x = np.asarray(rel["mean_predicted"], dtype=float)
        y = np.asarray(rel["observed_rate"], dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        ax.plot(x[ok], y[ok], marker="o", label=f"{name} (ECE {e['metrics']['ECE']['mean']:.3f})")
    ax.set_xlabel("predicted click probability (bin mean)")
    ax.set_ylabel("observed click rate")
    ax.set_title("Reliability on the test events")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    img = figure_png(fig)
    plt.close(fig)
    return img


def _reliability(report: dict[str, Any]) -> str:
    try:
        png = _reliability_plot(report)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != "matplotlib":
            raise
        return NO_PLOTS
    return f'<img alt="reliability diagram" src="data:image/png;base64,{png}">'


def _methods(report: dict[str, Any]) -> str:
    """Each model's calibration, e.g. ``deepfm: none, logreg: temperature`` (``auto`` picks)."""
    chosen = [
        f"{name}: {e['calibration']['method']}"
        for name, e in report["models"].items()
        if "calibration" in e
    ]
    return f"{report['config']['calibration']}; " + ", ".join(chosen)


def write_ctr_html(path: Path, report: dict[str, Any]) -> None:
    first: dict[str, Any] = next(iter(report["models"].values()), {"metrics": {}})
    labels = [lbl for lbl in first["metrics"] if lbl != "AUC"]
    labels = ["AUC", *labels]
    head = "".join(f"<th>{lbl}</th>" for lbl in labels)
    rows = []
    for name, e in report["models"].items():
        cells = "".join(f"<td>{e['metrics'][lbl]['mean']:.4f}</td>" for lbl in labels)
        rows.append(f"<tr><th>{html.escape(name)}</th>{cells}<td>{e['fit_seconds']:.1f}</td></tr>")
    oracle = report.get("oracle")
    if oracle:
        rows.append(
            f"<tr><th>oracle (true p)</th><td>{oracle['AUC']:.4f}</td>"
            f"<td>{oracle['LogLoss']:.4f}</td><td>{oracle['ECE']:.4f}</td>"
            + "<td></td>" * (len(labels) - 2)
            + "</tr>"
        )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lmrec CTR report</title>
<style>body {{ font-family: system-ui, sans-serif; margin: 2rem; max-width: 1100px; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #ccc; padding: 0.3rem 0.5rem; }}
img {{ max-width: 100%; }}</style></head><body>
<h1>lmrec click-through-rate report</h1>
<p>Label: {html.escape(report["label"])}. Temporal split: {html.escape(str(report["counts"]))}.
Probabilities are calibrated on the validation slice ({html.escape(_methods(report))});
ECE over 10 equal-width bins.</p>
<table><tr><th>model</th>{head}<th>fit s</th></tr>{"".join(rows)}</table>
<h2>Reliability</h2>{_reliability(report)}
<h2>Features</h2><p>{html.escape(str(report["features"]))}</p>
</body></html>
"""
    path.write_text(page)
