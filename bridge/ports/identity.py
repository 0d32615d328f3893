"""The connections of Slack users to their own Asana accounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bridge.domain.identity import Connection, OwnWrite, PendingConnect
from bridge.domain.model import (
    SlackUserId,
    TaskGid,
    TeamId,
)


class IdentityStore(Protocol):
    """People's Asana connections (adapters/store/identities.py); tokens are sealed at rest."""

    async def save_pending_connect(self, connect: PendingConnect, *, now: datetime) -> None: ...

    async def take_pending_connect(self, state_digest: str) -> PendingConnect | None:
        """The connect with this state digest, deleted as it is read (a state works once)."""
        ...

    async def save_connection(self, connection: Connection) -> None: ...

    async def get_connection(self, team_id: TeamId, slack_user_id: SlackUserId) -> Connection | None: ...

    async def delete_connection(self, team_id: TeamId, slack_user_id: SlackUserId) -> Connection | None: ...

    async def delete_connections_of(self, team_id: TeamId) -> list[Connection]: ...

    async def claim_refresh(
        self, team_id: TeamId, slack_user_id: SlackUserId, *, now: datetime, due_before: datetime, until: datetime
    ) -> Connection | None:
        """Take the refresh lease when the token expires before `due_before` and nobody holds it (compare-and-set)."""
        ...

    async def finish_refresh(
        self, team_id: TeamId, slack_user_id: SlackUserId, *, access_token: str, expires_at: datetime
    ) -> None: ...

    async def release_refresh(self, team_id: TeamId, slack_user_id: SlackUserId) -> None: ...

    async def offer_connect_once(self, team_id: TeamId, slack_user_id: SlackUserId, *, now: datetime) -> bool: ...

    async def record_own_writes(self, writes: Sequence[OwnWrite]) -> None: ...

    async def own_writes_of(self, task_gid: TaskGid, *, since: datetime) -> list[OwnWrite]: ...
