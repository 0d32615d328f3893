"""The App Home: what each person chose (for now, a DM when a task is assigned to them in Asana)."""

from __future__ import annotations

from collections.abc import Callable

from bridge.adapters import blocks
from bridge.domain.model import SlackUserId, TeamId, UserSettings, WorkspaceGid
from bridge.ports import Clock, SlackPort, Store
from bridge.services.people import People


class Home:
    def __init__(
        self,
        *,
        store: Store,
        slack: SlackPort,
        people: People,
        clock: Clock,
        workspace_gid: Callable[[], str | None],
    ) -> None:
        self._store = store
        self._slack = slack
        self._people = people
        self._clock = clock
        self._workspace_gid = workspace_gid

    async def show(self, team_id: TeamId, user_id: SlackUserId, *, note: str | None = None) -> None:
        settings = await self._store.get_user_settings(team_id, user_id)
        view = blocks.home_view(assignment_dms=settings is not None and settings.assignment_dms, note=note)
        await self._slack.publish_home(user_id, view)

    async def set_assignment_dms(self, team_id: TeamId, user_id: SlackUserId, on: bool) -> None:
        """Switch the DM on or off and show the result; switching on needs the person's Asana account."""
        workspace = self._workspace_gid()
        asana_user = await self._people.asana_user(team_id, user_id, WorkspaceGid(workspace)) if workspace else None
        if on and asana_user is None:
            await self.show(team_id, user_id, note=blocks.HOME_NO_ASANA_USER)
            return
        await self._store.save_user_settings(
            UserSettings(
                team_id=team_id,
                slack_user_id=user_id,
                asana_user_gid=asana_user,
                updated_at=self._clock.now(),
                assignment_dms=on,
            )
        )
        await self.show(team_id, user_id)
