"""Slack user ↔ Asana user mappings and each person's settings."""

from __future__ import annotations

from typing import Protocol

from bridge.domain.model import (
    AsanaUserGid,
    SlackUserId,
    TeamId,
    UserMapping,
    UserSettings,
)


class UserMappings(Protocol):
    """People: Slack user ⇄ Asana user, as the bridge has met them."""

    async def get_user_mapping(self, team_id: TeamId, slack_user_id: SlackUserId) -> UserMapping | None: ...

    async def save_user_mapping(self, mapping: UserMapping) -> None: ...

    async def slack_user_for(self, team_id: TeamId, asana_user_gid: AsanaUserGid) -> SlackUserId | None:
        """The Slack user of this team known to be this Asana user (from the people the bridge has met)."""
        ...

    async def assignment_dm_subscribers(self, team_id: TeamId, asana_user_gid: AsanaUserGid) -> list[SlackUserId]:
        """The Slack users of this team who asked for a DM when a task is assigned to this Asana user."""
        ...


class UserSettingsStore(Protocol):
    """Each person's own settings (the App Home's switches)."""

    async def get_user_settings(self, team_id: TeamId, slack_user_id: SlackUserId) -> UserSettings | None: ...

    async def save_user_settings(self, settings: UserSettings) -> None: ...
