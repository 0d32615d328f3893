"""The multi-workspace install's storage: slack_sdk's SQLAlchemy stores on the bridge's database, tokens sealed
at rest, and each workspace's bot token looked up for the bridge's own calls (cached, forgotten on uninstall)."""

from __future__ import annotations

import logging
from typing import Any, cast

from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.adapters.store.crypto import Cipher, SealedText
from bridge.adapters.store.engine import writer
from bridge.lookups import Lookups

log = logging.getLogger(__name__)

# Columns of slack_sdk's installation and bot tables that let their holder act as the app (or post as it).
SEALED_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token", "incoming_webhook_url")

# How long a workspace's bot token is trusted from memory. An uninstall seen here clears it at once; one seen by
# another replica is seen there within this time (meanwhile Slack refuses the revoked token anyway).
TOKEN_MEMORY_SECONDS = 60.0

# How long an install link (its OAuth state) stays good; Slack's own authorization codes last ten minutes.
STATE_SECONDS = 600


class _ReadersAndWriters:
    """The engine as slack_sdk's stores use it: `begin()` for writes, `connect()` for reads. Their writes read
    first (is there a row to update?); on SQLite such a transaction must start as a writer (BEGIN IMMEDIATE, see
    store/engine.py) or its upgrade fails with "database is locked" when another connection wrote meanwhile."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._writer = writer(engine)

    def begin(self) -> Any:
        return self._writer.begin()

    def connect(self) -> Any:
        return self._engine.connect()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


def _for_slack_sdk(engine: AsyncEngine) -> AsyncEngine:
    return cast(AsyncEngine, _ReadersAndWriters(engine))


class SqlInstallationStore(AsyncSQLAlchemyInstallationStore):
    """slack_sdk's async SQLAlchemy installation store on the bridge's engine, with token columns sealed.

    Its tables are created by the bridge's migrations (tables.py mirrors them), never by create_tables()."""

    def __init__(self, *, client_id: str, engine: AsyncEngine, cipher: Cipher | None) -> None:
        super().__init__(client_id=client_id, engine=_for_slack_sdk(engine), logger=logging.getLogger(__name__))
        # The store builds its own Table objects for its queries; sealing their token columns' types seals every
        # write (insert, update) and opens every read without touching slack_sdk's query code.
        for table in (self.installations, self.bots):
            for name in SEALED_COLUMNS:
                if name in table.c:
                    table.c[name].type = SealedText(cipher)

    async def create_tables(self) -> None:
        raise RuntimeError("the bridge's migrations own these tables: run `bridge migrate`")


def oauth_state_store(engine: AsyncEngine) -> AsyncSQLAlchemyOAuthStateStore:
    """slack_sdk's OAuth state store (the install link's `state`, checked once on the redirect) on our engine."""
    return AsyncSQLAlchemyOAuthStateStore(
        expiration_seconds=STATE_SECONDS, engine=_for_slack_sdk(engine), logger=logging.getLogger(__name__)
    )


class WorkspaceTokens:
    """The bot token of each installed workspace, for calls the bridge makes on its own (relays, nags)."""

    def __init__(self, store: AsyncSQLAlchemyInstallationStore, *, memory_seconds: float = TOKEN_MEMORY_SECONDS):
        self._store = store
        # A workspace not installed (yet) is read again every time: its install may have just landed here or on
        # another replica, and a missing token is a database read, not an API call.
        self._known: Lookups[str, str] = Lookups(found_seconds=memory_seconds, missing_seconds=0.0, maxsize=5_000)

    async def bot_token(self, team_id: str) -> str | None:
        return await self._known.get_or_load(team_id, lambda: self._read(team_id))

    async def _read(self, team_id: str) -> str | None:
        bot = await self._store.async_find_bot(enterprise_id=None, team_id=team_id)
        return bot.bot_token if bot is not None and bot.bot_token else None

    def forget(self, team_id: str) -> None:
        self._known.forget(team_id)
