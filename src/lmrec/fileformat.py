"""Checks on the ``config.json`` of saved files: their kind and the format version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lmrec._version import __version__
from lmrec.errors import UsageError

__all__ = ["check_format"]


def check_format(config: dict[str, Any], kind: str, newest: int, path: Path) -> None:
    """Refuse a saved file of another kind, or one written by a newer lmrec."""
    if config.get("format") != kind:
        raise UsageError(f"{path}: not a saved {kind} file (format {config.get('format')!r})")
    version = config.get("version", 1)
    if not isinstance(version, int) or version > newest:
        raise UsageError(
            f"{path}: saved in {kind} format version {version} by lmrec "
            f"{config.get('lmrec_version', '?')}; this lmrec ({__version__}) reads up to "
            f"version {newest}; upgrade lmrec"
        )
