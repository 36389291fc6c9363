"""Secrets the center must be able to read back (registry passwords), encrypted at rest.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under one key per center:
``$SEAWALL_SECRET_KEY`` when set (every process of a scaled-out center needs the same
one), else ``secret.key`` in the data directory, created on first use with mode 0600. A
stored secret that the key cannot open is reported as such, never returned half-read.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from seawall.errors import EnvironmentFailure

KEY_ENV = "SEAWALL_SECRET_KEY"
KEY_FILE = "secret.key"


class SecretUnreadable(Exception):
    """A stored secret was encrypted under another key (or is damaged)."""


class Vault:
    """Encrypts and decrypts short secrets under the center's key."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def for_center(cls, data_dir: Path) -> Vault:
        """The vault of the center whose data lives in ``data_dir``."""
        configured = os.environ.get(KEY_ENV, "")
        if configured:
            return cls(_derive(configured))
        return cls(_key_file(data_dir / KEY_FILE))

    def seal(self, secret: str) -> bytes:
        return self._fernet.encrypt(secret.encode()) if secret else b""

    def open(self, sealed: bytes) -> str:
        if not sealed:
            return ""
        try:
            return self._fernet.decrypt(sealed).decode()
        except (InvalidToken, UnicodeDecodeError):
            raise SecretUnreadable(
                f"a stored secret cannot be decrypted with this center's key (${KEY_ENV} or "
                f"{KEY_FILE} changed?): enter the credential again"
            ) from None


def _derive(passphrase: str) -> bytes:
    """A Fernet key from any configured string (a generated Fernet key is used as it is)."""
    try:
        if len(base64.urlsafe_b64decode(passphrase.encode())) == 32:
            return passphrase.encode()
    except ValueError:
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(passphrase.encode()).digest())


def _key_file(path: Path) -> bytes:
    """The key stored at ``path``, created (0600, never overwritten) if absent."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = path.read_bytes().strip()
        else:
            key = Fernet.generate_key()
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(key + b"\n")
    except OSError as exc:
        raise EnvironmentFailure(
            f"the secret key {path} is unusable: {exc.strerror}",
            hint=f"set ${KEY_ENV} or make the data directory writable",
        ) from None
    try:
        Fernet(key)
    except ValueError:
        raise EnvironmentFailure(f"{path} does not hold a valid key") from None
    return key
