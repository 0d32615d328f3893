"""People: what each chose in the App Home, and which Slack user an Asana user is (for mentions and DMs)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select

from bridge.adapters.store.base import SqlBase
from bridge.adapters.store.engine import dialect_insert
from bridge.adapters.store.tables import user_mappings, user_settings
from bridge.domain.model import AsanaUserGid, SlackUserId, TeamId, UserSettings


class SqlUserSettings(SqlBase):
    async def get_user_settings(self, team_id: TeamId, slack_user_id: SlackUserId) -> UserSettings | None:
        async with self._read() as conn:
            row = (
                await conn.execute(
                    select(user_settings).where(
                        user_settings.c.team_id == team_id, user_settings.c.slack_user_id == slack_user_id
                    )
                )
            ).first()
        return None if row is None else _settings(row)

    async def save_user_settings(self, settings: UserSettings) -> None:
        values = {
            "team_id": settings.team_id,
            "slack_user_id": settings.slack_user_id,
            "asana_user_gid": settings.asana_user_gid,
            "assignment_dms": settings.assignment_dms,
            "updated_at": settings.updated_at,
        }
        async with self._write() as conn:
            stmt = dialect_insert(conn, user_settings).values(values)
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["team_id", "slack_user_id"],
                    set_={key: stmt.excluded[key] for key in values if key not in ("team_id", "slack_user_id")},
                )
            )

    async def slack_user_for(self, team_id: TeamId, asana_user_gid: AsanaUserGid) -> SlackUserId | None:
        async with self._read() as conn:
            found = (
                await conn.execute(
                    select(user_mappings.c.slack_user_id)
                    .where(user_mappings.c.team_id == team_id, user_mappings.c.asana_user_gid == asana_user_gid)
                    .order_by(user_mappings.c.fetched_at.desc())
                    .limit(1)
                )
            ).scalar()
        return None if found is None else SlackUserId(found)

    async def assignment_dm_subscribers(self, team_id: TeamId, asana_user_gid: AsanaUserGid) -> list[SlackUserId]:
        async with self._read() as conn:
            rows = await conn.execute(
                select(user_settings.c.slack_user_id)
                .where(
                    user_settings.c.team_id == team_id,
                    user_settings.c.asana_user_gid == asana_user_gid,
                    user_settings.c.assignment_dms.is_(True),
                )
                .order_by(user_settings.c.slack_user_id)
            )
            return [SlackUserId(row.slack_user_id) for row in rows]


def _settings(row: Row[Any]) -> UserSettings:
    m = row._mapping
    return UserSettings(
        team_id=TeamId(m["team_id"]),
        slack_user_id=SlackUserId(m["slack_user_id"]),
        asana_user_gid=None if m["asana_user_gid"] is None else AsanaUserGid(m["asana_user_gid"]),
        updated_at=m["updated_at"],
        assignment_dms=bool(m["assignment_dms"]),
    )
