"""Secrets at rest (issue #8): with BRIDGE_ENCRYPTION_KEY, webhook secrets and Slack tokens are sealed in the
database and read back as they were; values written before the key still read; without it, plain as before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import text

from bridge.adapters.slack_installations import SqlInstallationStore, WorkspaceTokens, oauth_state_store
from bridge.adapters.store.crypto import PREFIX, Cipher, SecretUnreadable
from bridge.adapters.store.engine import create_engine
from bridge.adapters.store.sql_store import SqlStore
from tests.integration.test_store import webhook

SECRET = "hook-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-111-222-sealmeplease"
USER_TOKEN = "xoxp-111-333-andmetoo"


@pytest.fixture
def cipher() -> Cipher:
    return Cipher(Cipher.generate_key())


@pytest_asyncio.fixture
async def sealed_store(database_url: str, cipher: Cipher) -> AsyncIterator[SqlStore]:
    store = await SqlStore.connect(database_url, cipher=cipher)
    try:
        yield store
    finally:
        await store.close()


async def _raw(url: str, sql: str) -> list[str | None]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return [row[0] for row in await conn.execute(text(sql))]
    finally:
        await engine.dispose()


async def test_webhook_secrets_are_sealed_and_read_back(database_url: str, sealed_store: SqlStore) -> None:
    await sealed_store.save_webhook(webhook("hk1", secret=SECRET))
    await sealed_store.save_webhook(webhook("hk2"))
    assert await sealed_store.complete_handshake("hk2", SECRET)
    raw = await _raw(database_url, "SELECT secret FROM webhooks ORDER BY hook_key")
    assert all(value and value.startswith(PREFIX) and SECRET not in value for value in raw), raw
    read = [await sealed_store.get_webhook(k) for k in ("hk1", "hk2")]
    assert [w.secret if w else None for w in read] == [SECRET, SECRET]
    assert {w.secret for w in await sealed_store.list_webhooks()} == {SECRET}


async def test_secrets_written_before_the_key_still_read_and_are_sealed_when_written_again(
    database_url: str, store: SqlStore, sealed_store: SqlStore
) -> None:
    await store.save_webhook(webhook("old", secret=SECRET))  # a bridge without a key wrote this
    assert await _raw(database_url, "SELECT secret FROM webhooks") == [SECRET]
    found = await sealed_store.get_webhook("old")
    assert found is not None and found.secret == SECRET
    await sealed_store.save_webhook(found)
    sealed = (await _raw(database_url, "SELECT secret FROM webhooks"))[0]
    assert sealed is not None and sealed.startswith(PREFIX)
    # Losing the key makes sealed secrets unreadable: an error, never the sealed text passed off as the secret.
    with pytest.raises(SecretUnreadable):
        await store.get_webhook("old")


async def test_without_a_key_secrets_are_stored_as_they_are(database_url: str, store: SqlStore) -> None:
    await store.save_webhook(webhook("hk1", secret=SECRET))
    assert await _raw(database_url, "SELECT secret FROM webhooks") == [SECRET]


def _installation(team: str = "T1") -> Installation:
    return Installation(
        app_id="A1",
        team_id=team,
        team_name="Acme",
        bot_token=BOT_TOKEN,
        bot_id="B1",
        bot_user_id="U0BOT",
        bot_scopes="chat:write,commands",
        user_id="U1",
        user_token=USER_TOKEN,
        user_scopes="search:read",
        installed_at=datetime.now(UTC).timestamp(),
    )


async def test_installation_tokens_are_sealed_and_found_in_the_clear(database_url: str, cipher: Cipher) -> None:
    engine = create_engine(database_url)
    try:
        installations = SqlInstallationStore(client_id="111.222", engine=engine, cipher=cipher)
        await installations.async_save(_installation())
        raw = await _raw(database_url, "SELECT bot_token || ' ' || user_token FROM slack_installations")
        raw += await _raw(database_url, "SELECT bot_token FROM slack_bots")
        assert raw and all(v and BOT_TOKEN not in v and USER_TOKEN not in v and v.startswith(PREFIX) for v in raw)
        found = await installations.async_find_installation(enterprise_id=None, team_id="T1")
        assert found is not None and (found.bot_token, found.user_token) == (BOT_TOKEN, USER_TOKEN)
        assert await WorkspaceTokens(installations).bot_token("T1") == BOT_TOKEN
        assert await WorkspaceTokens(installations).bot_token("T2") is None
        await installations.async_delete_all(enterprise_id=None, team_id="T1")
        assert await installations.async_find_bot(enterprise_id=None, team_id="T1") is None
        # The OAuth state store shares the database: a state is good once.
        states = oauth_state_store(engine)
        state = await states.async_issue()
        assert await states.async_consume(state) and not await states.async_consume(state)
    finally:
        await engine.dispose()


async def test_installations_saved_without_a_key_still_read_with_one(database_url: str, cipher: Cipher) -> None:
    engine = create_engine(database_url)
    try:
        await SqlInstallationStore(client_id="111.222", engine=engine, cipher=None).async_save(_installation())
        assert await _raw(database_url, "SELECT bot_token FROM slack_bots") == [BOT_TOKEN]
        sealed = SqlInstallationStore(client_id="111.222", engine=engine, cipher=cipher)
        bot = await sealed.async_find_bot(enterprise_id=None, team_id="T1")
        assert bot is not None and bot.bot_token == BOT_TOKEN
    finally:
        await engine.dispose()
