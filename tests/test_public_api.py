from __future__ import annotations

import subprocess
import sys

import lmrec


def test_all_is_sorted_and_importable() -> None:
    assert lmrec.__all__ == sorted(lmrec.__all__)
    for name in lmrec.__all__:
        assert hasattr(lmrec, name), name


def test_import_stays_light() -> None:
    code = "import sys, lmrec; print(any(m in sys.modules for m in ('torch', 'implicit')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
