"""``lmrec serve`` as a real process on a free local port, for tests that need real HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["free_port", "start_server"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    artifacts: Path, store: str, port: int, log: Path, *extra: str, wait_s: float = 60.0
) -> subprocess.Popen[bytes]:
    """Start ``lmrec serve`` (``extra`` flags; default ``--no-auth``) and wait until it is
    ready; its stderr goes to ``log``."""
    import httpx

    cmd = [sys.executable, "-c", "from lmrec.cli import main; main()", "serve", str(artifacts),
           "--store", store, "--port", str(port), *(extra or ("--no-auth",))]  # fmt: skip
    with log.open("ab") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
        if proc.poll() is not None:
            raise AssertionError(log.read_text())
    proc.kill()
    raise AssertionError(f"server did not become ready in {wait_s:g} s")
