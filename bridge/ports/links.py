"""Links between Slack channels and Asana projects, the webhooks that feed them, and the Events API sync tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bridge.domain.model import (
    ChannelId,
    Link,
    ProjectGid,
    SyncToken,
    TeamId,
    WebhookRegistration,
)


class LinkReads(Protocol):
    """The channel ⇄ project links, read (most services only read them)."""

    async def get_link(self, team_id: TeamId, channel_id: ChannelId) -> Link | None: ...

    async def links_for_project(self, project_gid: ProjectGid) -> list[Link]: ...

    async def list_links(self) -> list[Link]: ...


class LinkStore(LinkReads, Protocol):
    """Links, also made and removed (`/asana link`, `unlink`, uninstall)."""

    async def save_link(self, link: Link) -> None:
        """Insert or replace the link of (team, channel)."""
        ...

    async def delete_link(self, team_id: TeamId, channel_id: ChannelId) -> bool: ...


class WebhookStore(Protocol):
    """Asana webhook registrations (secrets are stored, never logged)."""

    async def save_webhook(self, registration: WebhookRegistration) -> None:
        """Insert or replace by hook_key."""
        ...

    async def get_webhook(self, hook_key: str) -> WebhookRegistration | None: ...

    async def webhooks_for_project(self, project_gid: ProjectGid) -> list[WebhookRegistration]: ...

    async def list_webhooks(self) -> list[WebhookRegistration]: ...

    async def complete_handshake(self, hook_key: str, secret: str) -> bool:
        """Store the secret of a PENDING registration that has none yet; False if that is not the case.

        Atomic (compare-and-set), so a second handshake can never overwrite a stored secret.
        """
        ...

    async def delete_webhook(self, hook_key: str) -> bool: ...

    async def mark_webhook_alerted(self, hook_key: str, failure_at: datetime) -> bool:
        """Remember the delivery failure (Asana's last_failure_at) the channels were told about; False if gone."""
        ...


class SyncTokenStore(Protocol):
    """Events API sync tokens, per resource."""

    async def get_sync_token(self, resource_gid: str) -> SyncToken | None: ...

    async def save_sync_token(self, token: SyncToken) -> None: ...
