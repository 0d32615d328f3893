"""SqlStore: the `Store` port on SQLAlchemy Core, the same code on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from bridge.adapters.store.answers import SqlAnswers
from bridge.adapters.store.caches import SqlNagLog, SqlSlackEvents, SqlSyncTokens, SqlUserMappings
from bridge.adapters.store.commands import SqlPendingCommands
from bridge.adapters.store.crypto import Cipher
from bridge.adapters.store.deflections import SqlDeflections
from bridge.adapters.store.engine import DEFAULT_DATABASE_URL, create_engine
from bridge.adapters.store.identities import SqlIdentities
from bridge.adapters.store.inbox import SqlInbox
from bridge.adapters.store.inbox_leases import SqlInboxLeases
from bridge.adapters.store.leadership import SqlLeadership
from bridge.adapters.store.links import SqlLinks, SqlWebhooks
from bridge.adapters.store.nag_index import SqlNagIndex
from bridge.adapters.store.outbox import SqlOutbox
from bridge.adapters.store.people import SqlUserSettings
from bridge.adapters.store.reports import SqlReports
from bridge.adapters.store.routing import SqlRouting
from bridge.adapters.store.shared_limits import SqlSharedLimits
from bridge.adapters.store.tasks import SqlCaptures, SqlComments, SqlTrackedTasks
from bridge.ports import AnswerStore, Store


class SqlStore(
    SqlLinks,
    SqlWebhooks,
    SqlInbox,
    SqlInboxLeases,
    SqlTrackedTasks,
    SqlCaptures,
    SqlPendingCommands,
    SqlComments,
    SqlSlackEvents,
    SqlUserMappings,
    SqlUserSettings,
    SqlSyncTokens,
    SqlNagLog,
    SqlNagIndex,
    SqlOutbox,
    SqlLeadership,
    SqlRouting,
    SqlSharedLimits,
    SqlReports,
    SqlIdentities,
    SqlAnswers,
    SqlDeflections,
):
    """Every method is one transaction; uniqueness comes from primary keys and unique constraints.

    The schema must exist already: run `migrate(url)` first.
    """

    @classmethod
    async def connect(
        cls, url: str = DEFAULT_DATABASE_URL, *, cipher: Cipher | None = None, **engine_kwargs: Any
    ) -> SqlStore:
        return cls(create_engine(url, **engine_kwargs), cipher=cipher)

    async def close(self) -> None:
        await self.finish_group_commits()
        await self.close_inbox_writer()
        await self.close_one_trip_writer()
        await self.let_go_of_everything()
        await self._engine.dispose()

    async def ping(self) -> None:
        async with self._read() as conn:
            await conn.execute(text("SELECT 1"))

    def __repr__(self) -> str:
        return f"SqlStore({self._engine.url.render_as_string(hide_password=True)!r})"


def _conforms(store: SqlStore) -> Store:
    # mypy checks here that SqlStore satisfies the port.
    return store


def _answers_conform(store: SqlStore) -> AnswerStore:
    return store
