"""Small keyed records: Slack event ids seen, the user-mapping cache, Events API sync tokens and the nag log."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update

from bridge.adapters.store.base import SqlBase
from bridge.adapters.store.engine import dialect_insert
from bridge.adapters.store.tables import nag_log, slack_events, sync_tokens, user_mappings
from bridge.domain.model import (
    AsanaUserGid,
    MessageTs,
    NagKey,
    SlackUserId,
    SyncToken,
    TaskGid,
    TeamId,
    UserMapping,
)
from bridge.domain.nag_clicks import CLICKED_COPY, PostedNag


class SqlSlackEvents(SqlBase):
    async def remember_slack_event(self, event_id: str, now: datetime) -> bool:
        async with self._write() as conn:
            stmt = (
                dialect_insert(conn, slack_events)
                .values(event_id=event_id, seen_at=now)
                .on_conflict_do_nothing(index_elements=["event_id"])
                .returning(slack_events.c.event_id)
            )
            return (await conn.execute(stmt)).first() is not None


class SqlUserMappings(SqlBase):
    async def get_user_mapping(self, team_id: TeamId, slack_user_id: SlackUserId) -> UserMapping | None:
        async with self._read() as conn:
            row = (
                await conn.execute(
                    select(user_mappings).where(
                        user_mappings.c.team_id == team_id, user_mappings.c.slack_user_id == slack_user_id
                    )
                )
            ).first()
        if row is None:
            return None
        m = row._mapping
        return UserMapping(
            team_id=TeamId(m["team_id"]),
            slack_user_id=SlackUserId(m["slack_user_id"]),
            email=m["email"],
            asana_user_gid=None if m["asana_user_gid"] is None else AsanaUserGid(m["asana_user_gid"]),
            fetched_at=m["fetched_at"],
        )

    async def save_user_mapping(self, mapping: UserMapping) -> None:
        async with self._write() as conn:
            stmt = dialect_insert(conn, user_mappings).values(
                team_id=mapping.team_id,
                slack_user_id=mapping.slack_user_id,
                email=mapping.email,
                asana_user_gid=mapping.asana_user_gid,
                fetched_at=mapping.fetched_at,
            )
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["team_id", "slack_user_id"],
                    set_={
                        "email": stmt.excluded.email,
                        "asana_user_gid": stmt.excluded.asana_user_gid,
                        "fetched_at": stmt.excluded.fetched_at,
                    },
                )
            )


class SqlSyncTokens(SqlBase):
    async def get_sync_token(self, resource_gid: str) -> SyncToken | None:
        async with self._read() as conn:
            row = (await conn.execute(select(sync_tokens).where(sync_tokens.c.resource_gid == resource_gid))).first()
        if row is None:
            return None
        m = row._mapping
        return SyncToken(resource_gid=m["resource_gid"], token=m["token"], updated_at=m["updated_at"])

    async def save_sync_token(self, token: SyncToken) -> None:
        async with self._write() as conn:
            stmt = dialect_insert(conn, sync_tokens).values(
                resource_gid=token.resource_gid, token=token.token, updated_at=token.updated_at
            )
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["resource_gid"],
                    set_={"token": stmt.excluded.token, "updated_at": stmt.excluded.updated_at},
                )
            )


class SqlNagLog(SqlBase):
    async def record_nag(self, key: NagKey, *, now: datetime, message_ts: MessageTs | None = None) -> bool:
        async with self._write() as conn:
            stmt = (
                dialect_insert(conn, nag_log)
                .values(
                    task_gid=key.task_gid,
                    kind=key.kind,
                    stage=key.stage,
                    period=key.period,
                    sent_at=now,
                    message_ts=message_ts,
                )
                .on_conflict_do_nothing(index_elements=["task_gid", "kind", "stage", "period"])
                .returning(nag_log.c.task_gid)
            )
            return (await conn.execute(stmt)).first() is not None

    async def sent_nags(self, task_gids: Collection[TaskGid]) -> set[NagKey]:
        """The nags already sent for these tasks (the scheduler's `already_sent`), read in one go per chunk."""
        found: set[NagKey] = set()
        wanted = list(task_gids)
        async with self._read() as conn:
            for start in range(0, len(wanted), 1000):  # stay under the drivers' bound-parameter limits
                rows = await conn.execute(
                    select(nag_log.c.task_gid, nag_log.c.kind, nag_log.c.stage, nag_log.c.period).where(
                        nag_log.c.task_gid.in_(wanted[start : start + 1000])
                    )
                )
                found.update(NagKey(TaskGid(r.task_gid), r.kind, r.stage, r.period) for r in rows)
        return found

    async def posted_nag(self, task_gid: TaskGid, message_ts: MessageTs) -> PostedNag | None:
        async with self._read() as conn:
            row = (
                await conn.execute(
                    select(nag_log)
                    .where(nag_log.c.task_gid == task_gid, nag_log.c.message_ts == message_ts)
                    .order_by(nag_log.c.acted_at.is_(None), nag_log.c.sent_at)  # an acted-on row first
                    .limit(1)
                )
            ).first()
        if row is None:
            return None
        m = row._mapping
        return PostedNag(
            key=NagKey(TaskGid(m["task_gid"]), m["kind"], m["stage"], m["period"]),
            sent_at=m["sent_at"],
            message_ts=MessageTs(m["message_ts"]),
            acted_at=m["acted_at"],
            acted_by=None if m["acted_by"] is None else SlackUserId(m["acted_by"]),
            outcome=m["outcome"],
        )

    async def claim_nag(
        self, task_gid: TaskGid, message_ts: MessageTs, *, by: SlackUserId, outcome: str, now: datetime
    ) -> str | None:
        async with self._write() as conn:
            claimed = await conn.execute(
                update(nag_log)
                .where(
                    nag_log.c.task_gid == task_gid,
                    nag_log.c.message_ts == message_ts,
                    nag_log.c.acted_at.is_(None),
                )
                .values(acted_at=now, acted_by=by, outcome=outcome)
                .returning(nag_log.c.task_gid)
            )
            if claimed.first() is not None:
                return None
            first = (
                await conn.execute(
                    select(nag_log.c.outcome).where(
                        nag_log.c.task_gid == task_gid,
                        nag_log.c.message_ts == message_ts,
                        nag_log.c.acted_at.is_not(None),
                    )
                )
            ).first()
            if first is not None:
                return str(first.outcome or "")
            # A message the log has no row for: its own row, keyed by the message, is the compare-and-set.
            inserted = await conn.execute(
                dialect_insert(conn, nag_log)
                .values(
                    task_gid=task_gid,
                    kind=CLICKED_COPY,
                    stage="",
                    period=message_ts,
                    sent_at=now,
                    message_ts=message_ts,
                    acted_at=now,
                    acted_by=by,
                    outcome=outcome,
                )
                .on_conflict_do_nothing(index_elements=["task_gid", "kind", "stage", "period"])
                .returning(nag_log.c.task_gid)
            )
            if inserted.first() is not None:
                return None
        # Lost the insert to a concurrent click on the same message: whatever it recorded is the answer.
        found = await self.posted_nag(task_gid, message_ts)
        return (found.outcome or "") if found is not None else ""

    async def release_nag(self, task_gid: TaskGid, message_ts: MessageTs, *, by: SlackUserId) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(nag_log)
                .where(
                    nag_log.c.task_gid == task_gid,
                    nag_log.c.message_ts == message_ts,
                    nag_log.c.acted_by == by,
                )
                .values(acted_at=None, acted_by=None, outcome=None)
            )
