"""What every benchmark shares: a line describing the machine, and writing a section of
RESULTS.md. Scripts import it by name (a script's own folder is on its import path)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

__all__ = ["machine", "write_section"]


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, Python {platform.python_version()}"


def write_section(path: Path, heading: str, section: str) -> None:
    """Replace the section under ``heading`` in RESULTS.md (or append it)."""
    text = path.read_text() if path.is_file() else "# Benchmark results\n\n"
    start = text.find(heading)
    if start >= 0:
        end = text.find("\n## ", start + 5)
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text)
    print(section)
