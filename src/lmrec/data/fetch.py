"""Download public datasets (where a network exists) and unpack them into a local folder."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lmrec.errors import DataError, UsageError
from lmrec.progress import task

__all__ = ["SOURCES", "Source", "fetch"]


@dataclass(frozen=True)
class Source:
    url: str
    folder: str  # folder inside the zip
    checksums: dict[str, str] = field(default_factory=dict)  # file in folder -> sha256


SOURCES: dict[str, Source] = {
    "movielens-100k": Source(
        url="https://files.grouplens.org/datasets/movielens/ml-100k.zip",
        folder="ml-100k",
        checksums={"u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490"},
    ),
    "movielens-latest-small": Source(
        url="https://files.grouplens.org/datasets/movielens/ml-latest-small.zip",
        folder="ml-latest-small",
    ),
}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(
    name: str, dest: str | Path, *, url: str | None = None, verify: bool = True, timeout: float = 60
) -> Path:
    """Download ``name``'s zip to a temporary file, unpack it under ``dest``, verify checksums.

    Returns the unpacked folder. ``url`` (or ``LMREC_<NAME>_URL``) overrides the official address,
    e.g. for a mirror. Nothing is left in ``dest`` when the download or a check fails.
    """
    if name not in SOURCES:
        raise UsageError(f"unknown dataset '{name}'; known: {', '.join(SOURCES)}")
    source = SOURCES[name]
    env_key = "LMREC_" + name.upper().replace("-", "_") + "_URL"
    address = url or os.environ.get(env_key) or source.url
    dest = Path(dest)
    target = dest / source.folder
    if target.is_dir() and all((target / f).is_file() for f in source.checksums or {"": ""} if f):
        return target
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        archive = Path(tmp) / "download.zip"
        try:
            with urllib.request.urlopen(address, timeout=timeout) as resp, archive.open("wb") as fh:
                total = int(resp.headers.get("Content-Length") or 0) or None
                with task(f"fetch {name} (bytes)", total) as row:
                    for chunk in iter(lambda: resp.read(1 << 16), b""):
                        fh.write(chunk)
                        row.advance(len(chunk))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DataError(f"download failed ({reason})", path=address) from None
        try:
            with zipfile.ZipFile(archive) as zf:
                unpack = Path(tmp) / "unpacked"
                for member in zf.infolist():
                    out = (unpack / member.filename).resolve()
                    if not out.is_relative_to(unpack.resolve()):
                        raise DataError(f"unsafe path in archive: {member.filename}", path=address)
                zf.extractall(unpack)
        except zipfile.BadZipFile:
            raise DataError("not a zip archive", path=address) from None
        folder = unpack / source.folder
        if not folder.is_dir():
            raise DataError(f"the archive has no folder '{source.folder}'", path=address)
        if verify:
            for fname, expected in source.checksums.items():
                file = folder / fname
                if not file.is_file():
                    raise DataError(f"the archive has no {fname}", path=address)
                got = _sha256(file)
                if got != expected:
                    raise DataError(
                        f"checksum mismatch for {fname}: expected {expected[:12]}..., got "
                        f"{got[:12]}... (pass --no-verify to accept it)",
                        path=address,
                    )
        if target.exists():
            shutil.rmtree(target)
        shutil.move(str(folder), target)
    return target
