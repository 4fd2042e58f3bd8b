"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under keys
derived from ``STRIPEMETER_SECRET_KEY``.

The setting may list several keys separated by commas: the first encrypts, all decrypt, so a
key can be rotated without a flag day (add the new key first, re-save, drop the old one).
Each listed key is a high-entropy string (``stripemeter secret-key`` prints one); it is
stretched to a Fernet key with HKDF so any length of at least 32 characters works.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from stripemeter_server.domain.errors import ValidationError

MIN_KEY_LENGTH = 32
_INFO = b"stripemeter secrets at rest v1"


class SecretKeyError(ValidationError):
    code = "invalid_secret_key"


def _fernet(material: str) -> Fernet:
    if len(material) < MIN_KEY_LENGTH:
        raise SecretKeyError(
            f"STRIPEMETER_SECRET_KEY entries must be at least {MIN_KEY_LENGTH} characters"
        )
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        material.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(derived))


class SecretBox:
    """Encrypts and decrypts small secrets; never prints them (``repr`` is opaque)."""

    def __init__(self, keys: str) -> None:
        parts = [part.strip() for part in keys.split(",") if part.strip()]
        if not parts:
            raise SecretKeyError("STRIPEMETER_SECRET_KEY is empty")
        self._fernet = MultiFernet([_fernet(part) for part in parts])

    def __repr__(self) -> str:
        return "SecretBox(<keys hidden>)"

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise SecretKeyError(
                "a stored secret cannot be decrypted with STRIPEMETER_SECRET_KEY "
                "(was the key changed without keeping the old one?)"
            ) from None


def new_secret_key() -> str:
    return secrets.token_urlsafe(32)


def embedded_key_file(database_path: Path) -> str:
    """The embedded store's key: kept beside the SQLite file (mode 0600), made on first use.

    Only for the embedded default, where one machine holds both; production sets
    ``STRIPEMETER_SECRET_KEY`` from its secret manager.
    """
    if str(database_path) in ("", ":memory:"):
        return new_secret_key()  # an in-memory store keeps nothing, so neither does its key
    path = database_path.parent / ".secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_secret_key() + "\n")
    return path.read_text().strip()
