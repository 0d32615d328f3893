"""People's own Asana connections: sealed tokens, pending connects, the refresh lease, offers and own writes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, delete, insert, or_, select, update

from bridge.adapters.store.base import SqlBase
from bridge.adapters.store.crypto import Cipher, seal, unseal
from bridge.adapters.store.engine import dialect_insert
from bridge.adapters.store.tables import asana_connect_offers, asana_connect_states, asana_connections, own_writes
from bridge.domain.identity import Connection, OwnWrite, PendingConnect
from bridge.domain.model import AsanaUserGid, SlackUserId, TaskGid, TeamId

OWN_WRITES_KEPT = timedelta(days=1)


class SqlIdentities(SqlBase):
    # ---- connects in progress (single use: taking one deletes it)

    async def save_pending_connect(self, connect: PendingConnect, *, now: datetime) -> None:
        async with self._write() as conn:
            await conn.execute(delete(asana_connect_states).where(asana_connect_states.c.expires_at < now))
            await conn.execute(
                insert(asana_connect_states).values(
                    state_digest=connect.state_digest,
                    team_id=connect.team_id,
                    slack_user_id=connect.slack_user_id,
                    code_verifier=seal(self._cipher, connect.code_verifier),
                    expires_at=connect.expires_at,
                )
            )

    async def take_pending_connect(self, state_digest: str) -> PendingConnect | None:
        async with self._write() as conn:
            row = (
                await conn.execute(
                    delete(asana_connect_states)
                    .where(asana_connect_states.c.state_digest == state_digest)
                    .returning(*asana_connect_states.c)
                )
            ).first()
        if row is None:
            return None
        m = row._mapping
        return PendingConnect(
            state_digest=m["state_digest"],
            team_id=TeamId(m["team_id"]),
            slack_user_id=SlackUserId(m["slack_user_id"]),
            code_verifier=unseal(self._cipher, str(m["code_verifier"])) or "",
            expires_at=m["expires_at"],
        )

    # ---- connections

    async def save_connection(self, connection: Connection) -> None:
        values = _values(self._cipher, connection)
        async with self._write() as conn:
            stmt = dialect_insert(conn, asana_connections).values(values)
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["team_id", "slack_user_id"],
                    set_={key: stmt.excluded[key] for key in values if key not in ("team_id", "slack_user_id")},
                )
            )

    async def get_connection(self, team_id: TeamId, slack_user_id: SlackUserId) -> Connection | None:
        async with self._read() as conn:
            row = (await conn.execute(select(asana_connections).where(_person(team_id, slack_user_id)))).first()
        return None if row is None else _connection(self._cipher, row)

    async def delete_connection(self, team_id: TeamId, slack_user_id: SlackUserId) -> Connection | None:
        async with self._write() as conn:
            row = (
                await conn.execute(
                    delete(asana_connections).where(_person(team_id, slack_user_id)).returning(*asana_connections.c)
                )
            ).first()
        return None if row is None else _connection(self._cipher, row)

    async def delete_connections_of(self, team_id: TeamId) -> list[Connection]:
        """Forget every connection of a Slack workspace (the app was uninstalled from it); what was forgotten."""
        async with self._write() as conn:
            rows = (
                await conn.execute(
                    delete(asana_connections)
                    .where(asana_connections.c.team_id == team_id)
                    .returning(*asana_connections.c)
                )
            ).all()
        return [_connection(self._cipher, row) for row in rows]

    async def claim_refresh(
        self, team_id: TeamId, slack_user_id: SlackUserId, *, now: datetime, due_before: datetime, until: datetime
    ) -> Connection | None:
        """Take the refresh of a person's token when it is due (expires before `due_before`) and no other replica
        holds it (compare-and-set on the lease); None when it is not due or someone else is refreshing it."""
        async with self._write() as conn:
            row = (
                await conn.execute(
                    update(asana_connections)
                    .where(
                        _person(team_id, slack_user_id),
                        asana_connections.c.expires_at < due_before,
                        or_(
                            asana_connections.c.refreshing_until.is_(None),
                            asana_connections.c.refreshing_until <= now,
                        ),
                    )
                    .values(refreshing_until=until)
                    .returning(*asana_connections.c)
                )
            ).first()
        return None if row is None else _connection(self._cipher, row)

    async def finish_refresh(
        self, team_id: TeamId, slack_user_id: SlackUserId, *, access_token: str, expires_at: datetime
    ) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(asana_connections)
                .where(_person(team_id, slack_user_id))
                .values(access_token=seal(self._cipher, access_token), expires_at=expires_at, refreshing_until=None)
            )

    async def release_refresh(self, team_id: TeamId, slack_user_id: SlackUserId) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(asana_connections).where(_person(team_id, slack_user_id)).values(refreshing_until=None)
            )

    # ---- the one-time offer to connect

    async def offer_connect_once(self, team_id: TeamId, slack_user_id: SlackUserId, *, now: datetime) -> bool:
        """True the first time a person is offered to connect (and now recorded), False ever after."""
        async with self._write() as conn:
            stmt = dialect_insert(conn, asana_connect_offers).values(
                team_id=team_id, slack_user_id=slack_user_id, offered_at=now
            )
            inserted = await conn.execute(stmt.on_conflict_do_nothing().returning(asana_connect_offers.c.team_id))
            return inserted.first() is not None

    # ---- own writes

    async def record_own_writes(self, writes: Sequence[OwnWrite]) -> None:
        if not writes:
            return
        async with self._write() as conn:
            cutoff = max(w.written_at for w in writes) - OWN_WRITES_KEPT
            await conn.execute(delete(own_writes).where(own_writes.c.written_at < cutoff))
            await conn.execute(
                insert(own_writes),
                [
                    {
                        "task_gid": w.task_gid,
                        "field": w.field,
                        "value_digest": w.value_digest,
                        "written_at": w.written_at,
                    }
                    for w in writes
                ],
            )

    async def own_writes_of(self, task_gid: TaskGid, *, since: datetime) -> list[OwnWrite]:
        async with self._read() as conn:
            rows = await conn.execute(
                select(own_writes)
                .where(and_(own_writes.c.task_gid == task_gid, own_writes.c.written_at >= since))
                .order_by(own_writes.c.id)
            )
            return [OwnWrite(TaskGid(r.task_gid), r.field, r.value_digest, r.written_at) for r in rows]


def _person(team_id: TeamId, slack_user_id: SlackUserId) -> Any:
    return and_(asana_connections.c.team_id == team_id, asana_connections.c.slack_user_id == slack_user_id)


def _values(cipher: Cipher | None, c: Connection) -> dict[str, Any]:
    return {
        "team_id": c.team_id,
        "slack_user_id": c.slack_user_id,
        "asana_user_gid": c.asana_user_gid,
        "asana_name": c.asana_name,
        "access_token": seal(cipher, c.access_token),
        "refresh_token": seal(cipher, c.refresh_token),
        "expires_at": c.expires_at,
        "connected_at": c.connected_at,
        "refreshing_until": None,
    }


def _connection(cipher: Cipher | None, row: Row[Any]) -> Connection:
    m = row._mapping
    return Connection(
        team_id=TeamId(m["team_id"]),
        slack_user_id=SlackUserId(m["slack_user_id"]),
        asana_user_gid=AsanaUserGid(m["asana_user_gid"]),
        asana_name=m["asana_name"],
        access_token=unseal(cipher, str(m["access_token"])) or "",
        refresh_token=unseal(cipher, str(m["refresh_token"])) or "",
        expires_at=m["expires_at"],
        connected_at=m["connected_at"],
    )
