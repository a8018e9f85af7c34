"""Who may call the API: application keys with scopes (``read``, ``events``, ``admin``)
and user tokens that act for one user.

Keys come from ``LMREC_API_KEYS`` (``key:scope,scope;key2:scope``) or a file with the same
text, one entry per line allowed. Only SHA-256 hashes are kept in memory, and a presented key
is compared with every stored hash in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from pathlib import Path

import jwt

from lmrec.errors import UsageError

__all__ = ["SCOPES", "Caller", "KeyRing", "UserTokens", "parse_keys"]

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

    def identify(self, key: str) -> tuple[str, frozenset[str]] | None:
        """The key's name in the audit log (a hash prefix) and its scopes; None if unknown."""
        scopes = self.scopes(key)
        return None if scopes is None else (f"key:{_hash(key).hex()[:12]}", scopes)

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


@dataclass(frozen=True)
class Caller:
    """Who sent a request: an application key (its scopes) or a user's token (its user)."""

    actor: str  # for the audit log: 'key:<hash prefix>', 'user-token' or 'open'
    scopes: frozenset[str] = frozenset()
    user: str | None = None  # the one user a user token may act for

    def may(self, scope: str, user_id: str | None = None) -> bool:
        """Whether the caller may do what ``scope`` allows, for ``user_id`` where given."""
        if scope in self.scopes:
            return True
        return self.user is not None and user_id is not None and self.user == user_id


class UserTokens:
    """Signed, expiring tokens (JWT, HS256) that let their bearer act for one user only."""

    issuer = "lmrec"

    def __init__(self, key: bytes) -> None:
        self._key = key

    def issue(self, user_id: str, ttl_s: float) -> tuple[str, float]:
        """A token for ``user_id`` valid for ``ttl_s`` seconds, and when it expires."""
        expires = time.time() + ttl_s
        claims = {"sub": user_id, "exp": int(expires), "iss": self.issuer, "scope": "user"}
        return jwt.encode(claims, self._key, algorithm="HS256"), float(int(expires))

    def user_of(self, token: str) -> str | None:
        """The user the token was issued for, or None when it is forged, altered or expired."""
        try:
            claims = jwt.decode(
                token, self._key, algorithms=["HS256"], issuer=self.issuer,
                options={"require": ["sub", "exp", "iss"]},
            )  # fmt: skip
        except jwt.PyJWTError:
            return None
        sub = claims.get("sub")
        return sub if isinstance(sub, str) and claims.get("scope") == "user" else None
