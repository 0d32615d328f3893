"""Secrets at rest: webhook secrets and Slack tokens sealed with Fernet under BRIDGE_ENCRYPTION_KEY.

A sealed value carries a prefix, so values written before a key was set still read as they are (and are sealed
the next time they are written). Several comma-separated keys rotate: the first seals, any of them opens.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

PREFIX = "enc:v1:"


class SecretUnreadable(Exception):
    """A sealed value that the configured keys cannot open (the key is unset, wrong or was rotated away)."""


class Cipher:
    """Seals and opens short secrets; the key text never shows in reprs."""

    def __init__(self, keys: str) -> None:
        parts = [part.strip() for part in keys.split(",") if part.strip()]
        if not parts:
            raise ValueError("no key")
        try:
            self._fernet = MultiFernet([Fernet(part.encode()) for part in parts])
        except (ValueError, TypeError):
            raise ValueError("expected Fernet keys: 32 url-safe base64-encoded bytes each") from None

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    def seal(self, value: str) -> str:
        if value.startswith(PREFIX):
            return value  # sealed already
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def open(self, value: str) -> str:
        if not value.startswith(PREFIX):
            return value  # written before a key was set
        try:
            return self._fernet.decrypt(value.removeprefix(PREFIX).encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(
                "a stored secret was sealed with a key BRIDGE_ENCRYPTION_KEY does not hold any more"
            ) from None

    def __repr__(self) -> str:
        return "Cipher('**********')"


def seal(cipher: Cipher | None, value: str | None) -> str | None:
    """`value` as it is stored: sealed when there is a key, as it is otherwise."""
    if value is None or cipher is None:
        return value
    return cipher.seal(value)


def unseal(cipher: Cipher | None, value: str | None) -> str | None:
    """A stored value as the bridge uses it; a sealed one without a key is an error, never passed on sealed."""
    if value is None:
        return None
    if cipher is None:
        if value.startswith(PREFIX):
            raise SecretUnreadable("a stored secret is sealed but BRIDGE_ENCRYPTION_KEY is not set")
        return value
    return cipher.open(value)


class SealedText(TypeDecorator[str]):
    """A text column sealed on write and opened on read with one cipher (None: stored as it is).

    For tables built per store instance (the Slack installation store), where the cipher is known."""

    impl = Text()
    cache_ok = True

    def __init__(self, cipher: Cipher | None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cipher = cipher

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return seal(self.cipher, value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return unseal(self.cipher, value)
