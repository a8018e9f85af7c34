"""Small helpers shared by the subcommands (option parsing, printing)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table

from lmrec.errors import UsageError

console = Console(stderr=False)


class AnnMode(StrEnum):
    """When to retrieve through an ANN index (``--ann``; enums make ``--help`` list them)."""

    auto = "auto"
    on = "on"
    off = "off"


def split_names(value: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise UsageError("--models needs at least one model name")
    return names


def parse_params(values: list[str] | None) -> dict[str, dict[str, Any]]:
    """``["als.embedding_size=128", "ease.reg=300"]`` -> ``{"als": {"embedding_size": 128}, ...}``."""
    out: dict[str, dict[str, Any]] = {}
    for item in values or []:
        key, sep, raw = item.partition("=")
        model, dot, param = key.partition(".")
        if not sep or not dot or not model or not param:
            raise UsageError(f"--param must look like MODEL.NAME=VALUE, not '{item}'")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out.setdefault(model, {})[param] = value
    return out


def metrics_table(report: dict[str, Any], labels: list[str]) -> Table:
    table = Table(title=f"Test metrics (K={report['k']}, 95% bootstrap CI)")
    table.add_column("model")
    for label in labels:
        table.add_column(label, justify="right")
    table.add_column("fit s", justify="right")
    for name, entry in report["models"].items():
        cells = []
        for label in labels:
            m = entry["metrics"][label]
            cells.append(f"{m['mean']:.4f} [{m['ci95'][0]:.3f}, {m['ci95'][1]:.3f}]")
        table.add_row(name, *cells, f"{entry['fit_seconds']:.2f}")
    return table
