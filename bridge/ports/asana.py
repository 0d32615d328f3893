"""The Asana calls the services make, as the bridge and as a person, and the OAuth exchange."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol

from bridge.domain.access import ProjectAccess
from bridge.domain.identity import Grant
from bridge.domain.model import (
    AsanaUserGid,
    TaskGid,
    WorkspaceGid,
)
from bridge.domain.work import (
    AsanaUser,
    CustomField,
    EventsPage,
    Project,
    Section,
    Story,
    Task,
    TaskDraft,
    Webhook,
)


class AsanaPort(Protocol):
    """The Asana calls the services make, in the bridge's types (adapters/asana_api.py implements it)."""

    async def me(self) -> AsanaUser: ...

    async def user_by_email(self, email: str, workspace_gid: WorkspaceGid) -> AsanaUser | None: ...

    async def out_of_office(
        self, user_gid: AsanaUserGid, workspace_gid: WorkspaceGid, *, start: date, end: date
    ) -> list[tuple[date, date]]:
        """The user's out-of-office entries (first and last day out) that overlap start..end."""
        ...

    async def project(self, project_gid: str) -> Project: ...

    async def project_access(self, project_gid: str) -> ProjectAccess: ...

    async def team_members(self, team_gid: str) -> list[AsanaUserGid]: ...

    async def is_guest(self, user_gid: str, workspace_gid: str) -> bool: ...

    async def sections_of(self, project_gid: str) -> list[Section]: ...

    async def create_section(self, project_gid: str, name: str) -> Section: ...

    async def custom_fields_of(self, project_gid: str) -> list[CustomField]: ...

    async def create_task(self, draft: TaskDraft) -> Task: ...

    async def task(self, task_gid: str) -> Task: ...

    async def create_subtask(self, parent: TaskGid, name: str, *, assignee: AsanaUserGid | None = None) -> Task: ...

    async def update_task(self, task_gid: str, changes: dict[str, Any]) -> Task: ...

    async def delete_task(self, task_gid: str) -> None: ...

    async def add_to_project(self, task_gid: str, project_gid: str, *, section_gid: str | None = None) -> None: ...

    async def add_followers(self, task_gid: str, users: Sequence[str]) -> None: ...

    async def comment(self, task_gid: str, text: str) -> str:
        """Write a comment as the bridge's Asana user; returns the story gid."""
        ...

    async def story(self, story_gid: str) -> Story: ...

    async def edit_comment(self, story_gid: str, text: str) -> None: ...

    async def delete_comment(self, story_gid: str) -> None: ...

    async def tasks_modified_since(self, project_gid: str, since: datetime) -> list[Task]: ...

    async def create_webhook(self, resource_gid: str, target: str, filters: list[dict[str, Any]]) -> tuple[str, str]:
        """Create a webhook; returns (webhook gid, the X-Hook-Secret Asana reported)."""
        ...

    async def delete_webhook(self, webhook_gid: str) -> None: ...

    async def webhooks_of(self, workspace_gid: str, resource_gid: str | None = None) -> list[Webhook]:
        """The webhooks this token's app registered in a workspace, with their delivery-failure fields."""
        ...

    async def events_since(self, resource_gid: str, sync: str | None) -> EventsPage:
        """One page of the Events API; raises SyncTokenExpired (with the new token) on 412."""
        ...


class PersonalAsana(Protocol):
    """The Asana gateway making its calls with a connected person's access token."""

    def acting_as(self, token: str) -> AsanaPort: ...


class BridgeAsana(AsanaPort, PersonalAsana, Protocol):
    """The bridge's gateway: its own calls, and the same client acting with a person's token."""


class AsanaOAuthPort(Protocol):
    """Asana's OAuth endpoints (adapters/asana_oauth.py)."""

    redirect_uri: str

    def authorize_url(self, *, state: str, code_challenge: str) -> str: ...

    async def exchange_code(self, code: str, *, code_verifier: str) -> Grant:
        """Raises OAuthRefused when Asana refuses the code."""
        ...

    async def refresh(self, refresh_token: str) -> Grant:
        """Raises OAuthRefused when Asana refuses the refresh token (revoked, or the app was removed)."""
        ...

    async def revoke(self, token: str) -> None: ...
