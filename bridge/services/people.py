"""Slack user → Asana user, by email, cached in the store so that warm captures make no extra reads."""

from __future__ import annotations

from datetime import timedelta

from bridge.domain.model import AsanaUserGid, SlackUserId, TeamId, UserMapping, WorkspaceGid
from bridge.ports import AsanaPort, Clock, SlackPort, Store

CACHE_LIFETIME = timedelta(hours=24)
# Someone without an Asana account may get one today: look again sooner.
NOT_FOUND_LIFETIME = timedelta(hours=1)


class People:
    def __init__(self, *, store: Store, slack: SlackPort, asana: AsanaPort, clock: Clock) -> None:
        self._store = store
        self._slack = slack
        self._asana = asana
        self._clock = clock

    async def asana_user(self, team_id: TeamId, user_id: SlackUserId, workspace: WorkspaceGid) -> AsanaUserGid | None:
        """The Asana user of a Slack user, or None when their email matches nobody in the workspace."""
        now = self._clock.now()
        cached = await self._store.get_user_mapping(team_id, user_id)
        if cached is not None:
            lifetime = CACHE_LIFETIME if cached.asana_user_gid else NOT_FOUND_LIFETIME
            if now - cached.fetched_at < lifetime:
                return cached.asana_user_gid
        email = await self._slack.user_email(user_id)
        found = await self._asana.user_by_email(email, workspace) if email else None
        if found is not None and found.workspace_gids and workspace not in found.workspace_gids:
            found = None  # a user of another workspace cannot be assigned here
        gid = found.gid if found else None
        await self._store.save_user_mapping(
            UserMapping(team_id=team_id, slack_user_id=user_id, email=email, asana_user_gid=gid, fetched_at=now)
        )
        return gid
