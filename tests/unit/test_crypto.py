"""Sealing secrets (BRIDGE_ENCRYPTION_KEY): prefix-marked Fernet tokens, key rotation, plain legacy values."""

from __future__ import annotations

import pytest

from bridge.adapters.store.crypto import PREFIX, Cipher, SecretUnreadable, seal, unseal
from bridge.config import ConfigError, load_settings

OLD, NEW = Cipher.generate_key(), Cipher.generate_key()


def test_a_sealed_value_opens_to_the_original_and_hides_it() -> None:
    cipher = Cipher(NEW)
    sealed = cipher.seal("xoxb-secret")
    assert sealed.startswith(PREFIX) and "xoxb-secret" not in sealed
    assert cipher.seal("xoxb-secret") != sealed  # a fresh IV each time
    assert cipher.open(sealed) == "xoxb-secret"
    assert cipher.seal(sealed) == sealed  # never sealed twice
    assert NEW not in repr(cipher)


def test_plain_values_from_before_the_key_read_as_they_are() -> None:
    assert Cipher(NEW).open("xoxb-plain") == "xoxb-plain"
    assert unseal(None, "xoxb-plain") == "xoxb-plain"
    assert seal(None, "xoxb-plain") == "xoxb-plain"
    assert seal(Cipher(NEW), None) is None and unseal(Cipher(NEW), None) is None


def test_keys_rotate_the_first_seals_and_every_one_opens() -> None:
    before = Cipher(OLD).seal("secret")
    rotated = Cipher(f"{NEW},{OLD}")
    assert rotated.open(before) == "secret"
    after = rotated.seal("secret")
    assert Cipher(NEW).open(after) == "secret"
    with pytest.raises(SecretUnreadable):
        Cipher(OLD).open(after)


def test_a_sealed_value_without_its_key_is_an_error_not_a_secret() -> None:
    sealed = Cipher(OLD).seal("secret")
    with pytest.raises(SecretUnreadable):
        unseal(None, sealed)
    with pytest.raises(SecretUnreadable):
        Cipher(NEW).open(sealed)


BASE = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "ASANA_ACCESS_TOKEN": "a"}


@pytest.mark.parametrize("bad", ["not-a-key", "x" * 44, f"{NEW},short"])
def test_a_malformed_key_is_refused_naming_the_variable(bad: str) -> None:
    with pytest.raises(ConfigError, match="BRIDGE_ENCRYPTION_KEY"):
        load_settings(BASE | {"BRIDGE_ENCRYPTION_KEY": bad}, read_dotenv=False)


def test_the_key_is_read_once_and_hidden() -> None:
    settings = load_settings(BASE | {"BRIDGE_ENCRYPTION_KEY": f"{NEW},{OLD}"}, read_dotenv=False)
    assert settings.encryption_key is not None and settings.encryption_key.reveal() == f"{NEW},{OLD}"
    assert NEW not in repr(settings)
    assert load_settings(BASE, read_dotenv=False).encryption_key is None
