"""Tokens at rest: Fernet under MultiFernet (newest key first; any listed key decrypts)."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from server.config import Secret

# Every Fernet token starts with version byte 0x80, "gAAAAA" in url-safe base64.
FERNET_PREFIX = "gAAAAA"


class TokenDecryptError(Exception):
    """A stored token could not be decrypted with any configured key."""


class TokenCipher:
    """Encrypts with the newest key, decrypts with any, re-encrypts to the newest."""

    def __init__(self, keys: Sequence[Secret]) -> None:
        if not keys:
            raise ValueError("at least one token encryption key is required")
        self._fernet = MultiFernet([Fernet(k.reveal().encode()) for k in keys])

    def __repr__(self) -> str:
        return "TokenCipher(<keys hidden>)"

    def encrypt(self, plaintext: str) -> str:
        """Ciphertext under the newest key."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        """Plaintext; raises TokenDecryptError if no key fits (never shows the value)."""
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except (InvalidToken, ValueError):
            raise TokenDecryptError(
                "stored token does not decrypt with any configured key"
            ) from None

    def rotate(self, ciphertext: str) -> str:
        """The same plaintext, encrypted under the newest key."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except (InvalidToken, ValueError):
            raise TokenDecryptError(
                "stored token does not decrypt with any configured key"
            ) from None

    @staticmethod
    def looks_encrypted(value: str) -> bool:
        """Whether a stored value is Fernet ciphertext (as opposed to a legacy plaintext token)."""
        return value.startswith(FERNET_PREFIX)
