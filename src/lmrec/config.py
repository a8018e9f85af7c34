"""The config file: one TOML file whose tables (``[train]``, ``[evaluate]``, ``[serve]``,
``[data.split]``, ...) set the options of the commands of the same name; flags override it.

The file is the one ``--config`` names, else ``$LMREC_CONFIG``, else ``./lmrec.toml`` when it
exists.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from lmrec.errors import UsageError

__all__ = ["CONFIG_ENV", "config_path", "read_config", "read_config_table"]

CONFIG_ENV = "LMREC_CONFIG"


def config_path(path: str | Path | None = None) -> Path | None:
    """The config file in force (None when there is none)."""
    given = path or os.environ.get(CONFIG_ENV)
    if given:
        if not Path(given).is_file():
            raise UsageError(f"config file {given} not found")
        return Path(given)
    default = Path("lmrec.toml")
    return default if default.is_file() else None


def read_config(path: str | Path | None = None) -> dict[str, Any]:
    """The whole config file (empty when there is none)."""
    file = config_path(path)
    if file is None:
        return {}
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{file}: not valid TOML ({exc})") from None


def read_config_table(table: str, path: str | Path | None = None) -> dict[str, Any]:
    """One table of the config file, e.g. ``serve`` or ``data.split`` (empty without one)."""
    found: Any = read_config(path)
    for part in table.split("."):
        found = found.get(part, {}) if isinstance(found, dict) else None
        if not isinstance(found, dict):
            raise UsageError(f"{config_path(path)}: [{table}] must be a table")
    return dict(found)
