"""Integration secrets at rest: Fernet with rotatable keys (the first key encrypts, all decrypt)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretUnreadable(ValueError):
    """No configured key decrypts this secret (the key that encrypted it was removed)."""


class SecretBox:
    def __init__(self, keys: str | list[str]) -> None:
        key_list = [k.strip() for k in keys.split(",")] if isinstance(keys, str) else keys
        key_list = [k for k in key_list if k]
        if not key_list:
            raise ValueError("at least one encryption key is required")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in key_list])
        except ValueError as error:
            raise ValueError(
                "PORTAL_ENCRYPTION_KEYS must be comma-separated Fernet keys "
                "(32 url-safe base64-encoded bytes each)"
            ) from error

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken as error:
            raise SecretUnreadable("secret cannot be decrypted with the configured keys") from error

    def rotate(self, token: bytes) -> bytes:
        """The same secret, encrypted again under the first key."""
        return self._fernet.rotate(token)
