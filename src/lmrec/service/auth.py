"""API keys with scopes: ``read``, ``events``, ``admin``.

Keys come from ``LMREC_API_KEYS`` (``key:scope,scope;key2:scope``) or a file with the same
text, one entry per line allowed. Only SHA-256 hashes are kept in memory, and a presented key
is compared with every stored hash in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from lmrec.errors import UsageError

__all__ = ["SCOPES", "KeyRing", "parse_keys"]

SCOPES = ("read", "events", "admin")


def _hash(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def parse_keys(text: str) -> dict[bytes, frozenset[str]]:
    out: dict[bytes, frozenset[str]] = {}
    for raw in text.replace("\n", ";").split(";"):
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        key, sep, scopes = entry.partition(":")
        names = frozenset(s.strip() for s in scopes.split(",") if s.strip())
        if not sep or not key.strip() or not names:
            raise UsageError("API keys must look like key:scope,scope;key2:scope")
        unknown = names - set(SCOPES)
        if unknown:
            raise UsageError(
                f"unknown API key scope(s) {', '.join(sorted(unknown))}; known: {', '.join(SCOPES)}"
            )
        out[_hash(key.strip())] = names
    return out


class KeyRing:
    def __init__(self, keys: dict[bytes, frozenset[str]]) -> None:
        self._keys = list(keys.items())

    @classmethod
    def from_config(cls, env_value: str | None, file: Path | None = None) -> KeyRing:
        text = env_value or ""
        if file is not None:
            if not file.is_file():
                raise UsageError(f"API key file {file} not found")
            text += ";" + file.read_text()
        return cls(parse_keys(text))

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def scopes(self, key: str | None) -> frozenset[str] | None:
        """The scopes of ``key``, or None when it is not a known key."""
        if key is None:
            return None
        digest = _hash(key)
        found: frozenset[str] | None = None
        for stored, scopes in self._keys:  # no early exit: time does not depend on the match
            if hmac.compare_digest(stored, digest):
                found = scopes
        return found
