"""The store's secret: pseudonyms of user ids, encryption of what is stored about people, and
the key that signs user tokens.

One random secret (32 bytes, hex in a file of mode 0600) gives three independent keys through
HKDF-SHA256: a user id is kept as its keyed hash (HMAC-SHA256, :meth:`Vault.pseudonym`), never
raw; events and profile edits are sealed with AES-256-GCM bound to the pseudonym of their user
(:meth:`Vault.seal`), so a sealed row cannot be moved to another user unnoticed.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from lmrec.errors import UsageError

__all__ = ["SECRET_ENV", "Vault", "secret_file_for"]

#: the environment variable naming the secret key file
SECRET_ENV = "LMREC_SECRET_KEY_FILE"

_NONCE = 12
_CHECK = b"lmrec key check"


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


class Vault:
    """Keys derived from one secret; see the module docstring."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise UsageError("the secret key must be at least 32 bytes")
        self._ids = _derive(secret, b"lmrec pseudonyms")
        self._mac = hmac.new(self._ids, digestmod=hashlib.sha256)  # copied for each id
        self.pseudonym = functools.lru_cache(maxsize=65536)(self._pseudonym)  # type: ignore[method-assign]
        self._aead = AESGCM(_derive(secret, b"lmrec at rest"))
        self.token_key = _derive(secret, b"lmrec user tokens")
        #: a value that tells whether a store was written with this secret
        self.check = hmac.new(self._ids, _CHECK, hashlib.sha256).hexdigest()[:16]

    @classmethod
    def ephemeral(cls) -> Vault:
        """A vault over a random secret kept nowhere (for an in-memory store)."""
        return cls(secrets.token_bytes(32))

    @classmethod
    def open(cls, path: Path) -> Vault:
        """The vault of the secret in ``path``, created (mode 0600) when the file is absent."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:  # O_EXCL: of several workers starting at once, one writes the secret
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as out:
                    out.write(secrets.token_hex(32) + "\n")
                    out.flush()
                    os.fsync(out.fileno())
        try:
            text = path.read_text().strip()
        except OSError as exc:
            raise UsageError(f"cannot read the secret key file {path}: {exc.strerror}") from None
        try:
            secret = bytes.fromhex(text)
        except ValueError:
            raise UsageError(f"secret key file {path}: expected 64 hex digits") from None
        if len(secret) < 32:
            raise UsageError(f"secret key file {path}: expected 64 hex digits, got {len(text)}")
        return cls(secret)

    def pseudonym(self, user_id: str) -> str:
        """The keyed hash under which ``user_id`` is stored (128 bits, hex); the latest ids'
        are kept in memory (a request and its events name the same users again and again)."""
        return self._pseudonym(user_id)  # replaced by a cached version in __init__

    def _pseudonym(self, user_id: str) -> str:
        return self.tag("user", user_id)

    def tag(self, kind: str, value: str) -> str:
        """A keyed hash of ``value`` as a ``kind`` of id (users, events), 128 bits in hex."""
        mac = self._mac.copy()
        mac.update(f"{kind}\x00{value}".encode("utf-8", "surrogatepass"))
        return mac.hexdigest()[:32]

    def seal(self, data: bytes, bound_to: str) -> bytes:
        """``data`` encrypted and authenticated, bound to ``bound_to`` (a pseudonym)."""
        nonce = secrets.token_bytes(_NONCE)
        return nonce + self._aead.encrypt(nonce, data, bound_to.encode())

    def unseal(self, blob: bytes, bound_to: str) -> bytes:
        try:
            return self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], bound_to.encode())
        except InvalidTag:
            raise UsageError("a stored record does not match the secret key") from None


def secret_file_for(store_url: str) -> Path | None:
    """Where the secret of ``store_url`` lives: ``$LMREC_SECRET_KEY_FILE``, else beside an
    SQLite file (``PATH.secret``), else ``lmrec-store.secret`` in the working folder; None for
    an in-memory store (a random secret, gone with the store)."""
    given = os.environ.get(SECRET_ENV)
    if given:
        return Path(given)
    path = url_path(store_url)
    if path == ":memory:":
        return None
    return Path(f"{path}.secret") if path is not None else Path("lmrec-store.secret")


def url_path(store_url: str) -> str | None:
    """The SQLite file of ``store_url`` (None for PostgreSQL)."""
    if store_url.startswith("sqlite:///"):
        return store_url[len("sqlite:///") :]
    if store_url.startswith(("postgresql://", "postgres://")) or "://" in store_url:
        return None
    return store_url
