"""A throwaway PostgreSQL server for tests, from Debian's ``postgresql`` package."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["find_postgres_bin", "restart_postgres", "temporary_postgres"]

#: the pg_ctl command line of each running temporary server, by URL
_SERVERS: dict[str, list[str]] = {}


def find_postgres_bin() -> Path | None:
    """The folder with ``initdb`` and ``pg_ctl`` (Debian keeps them out of PATH)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def temporary_postgres(bin_dir: Path) -> Iterator[str]:
    """Start a server on a free loopback port; yield its URL; stop it and delete its data.

    As root, the server runs as the ``postgres`` user (PostgreSQL refuses to run as root)."""
    root = Path(tempfile.mkdtemp(prefix="lmrec-pg-"))
    data = root / "data"
    port = _free_port()
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(root, "postgres")

    def run(args: list[str]) -> None:
        done = subprocess.run(args, capture_output=True, text=True, cwd="/", check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{args[len(prefix)]} failed: {done.stderr.strip()[-500:]}")

    try:
        run([*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "lmrec",
             "--auth=trust", "--no-sync", "-E", "UTF8"])  # fmt: skip
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=on"
        run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w",
             "-l", str(root / "log"), "start"])  # fmt: skip
        url = f"postgresql://lmrec@127.0.0.1:{port}/postgres"
        _SERVERS[url] = [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w",
                         "-l", str(root / "log")]  # fmt: skip
        try:
            yield url
        finally:
            _SERVERS.pop(url, None)
            subprocess.run(
                [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
                check=False, capture_output=True, cwd="/",
            )  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)


def restart_postgres(url: str) -> None:
    """Restart the temporary server at ``url`` (any database on it), dropping every
    connection, as a crash-and-recover or an upgrade would."""
    base = url.rsplit("/", 1)[0] + "/postgres"
    done = subprocess.run([*_SERVERS[base], "-m", "fast", "restart"], capture_output=True,
                          text=True, cwd="/", check=False)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"pg_ctl restart failed: {done.stderr.strip()[-500:]}")
