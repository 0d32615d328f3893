"""Linking a Slack channel to an Asana project: verify it, find its triage section and priority field, watch it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from bridge import wording
from bridge.domain.commands import CommandError, RelaySetting, parse_project_ref
from bridge.domain.model import (
    CaptureMode,
    ChannelId,
    Link,
    ProjectGid,
    SlackUserId,
    TeamId,
    WebhookStatus,
)
from bridge.domain.policy import Policy
from bridge.domain.work import Project
from bridge.errors import AsanaError, AsanaForbidden, AsanaNotFound
from bridge.ports import AsanaPort, Clock, InboxStats, LinkStore, WebhookStore
from bridge.services.errors import UserError
from bridge.services.webhooks import WebhookRegistrar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkOutcome:
    link: Link
    message: str


class Links:
    def __init__(
        self,
        *,
        links: LinkStore,
        webhooks: WebhookStore,
        inbox: InboxStats,
        asana: AsanaPort,
        clock: Clock,
        policy: Policy,
        webhook_target: Callable[[str], str | None],
        workspace_gid: Callable[[], str | None],
    ) -> None:
        self._links = links
        self._webhooks = webhooks
        self._inbox = inbox
        self._asana = asana
        self._clock = clock
        self._policy = policy
        self._workspace_gid = workspace_gid
        self._registrar = WebhookRegistrar(webhooks=webhooks, asana=asana, clock=clock, webhook_target=webhook_target)

    async def link(self, team_id: TeamId, channel_id: ChannelId, user_id: SlackUserId, ref: str) -> LinkOutcome:
        try:
            project_gid = parse_project_ref(ref)
        except CommandError as exc:
            raise UserError(f"{exc}. Example: `/asana link https://app.asana.com/0/1204…/list`") from None
        project = await self._asana_project(project_gid, ref)
        workspace = self._workspace_gid()
        if workspace and project.workspace_gid != workspace:
            raise UserError(wording.wrong_workspace(project.name))
        policy = self._policy.for_project(project.gid)
        triage_name = policy.triage.section.strip().lower()
        sections = await self._asana.sections_of(project.gid)
        triage = next((s for s in sections if s.name.strip().lower() == triage_name), None)
        triage_created = triage is None
        if triage is None:
            triage = await self._asana.create_section(project.gid, policy.triage.section)
        fields = await self._asana.custom_fields_of(project.gid)
        wanted = policy.triage.priority_field.strip().lower()
        priority = next((f for f in fields if f.subtype == "enum" and f.name.strip().lower() == wanted), None)
        existing = await self._links.get_link(team_id, channel_id)
        link = Link(
            team_id=team_id,
            channel_id=channel_id,
            project_gid=project.gid,
            project_name=project.name,
            workspace_gid=project.workspace_gid,
            created_by=user_id,
            created_at=existing.created_at if existing and existing.project_gid == project.gid else self._clock.now(),
            triage_section_gid=triage.gid,
            priority_field_gid=priority.gid if priority else None,
            capture_mode=existing.capture_mode if existing else policy.capture.mode,
            relay_kinds=existing.relay_kinds if existing else policy.relay.kinds,
            quiet=existing.quiet if existing else policy.relay.quiet,
        )
        await self._links.save_link(link)
        if existing and existing.project_gid != project.gid:
            await self._drop_webhooks(existing.project_gid)
        webhook = (await self._registrar.register(link)).message
        return LinkOutcome(link, wording.linked(link, webhook=webhook, triage_created=triage_created))

    async def set_capture(self, team_id: TeamId, channel_id: ChannelId, mode: CaptureMode) -> Link | None:
        link = await self._links.get_link(team_id, channel_id)
        if link is None:
            return None
        changed = replace(link, capture_mode=mode)
        await self._links.save_link(changed)
        return changed

    async def set_relay(self, team_id: TeamId, channel_id: ChannelId, setting: RelaySetting) -> Link | None:
        link = await self._links.get_link(team_id, channel_id)
        if link is None:
            return None
        changed = replace(link, relay_kinds=setting.kinds, quiet=setting.quiet)
        await self._links.save_link(changed)
        return changed

    async def unlink(self, team_id: TeamId, channel_id: ChannelId) -> str:
        link = await self._links.get_link(team_id, channel_id)
        if link is None:
            raise UserError(wording.NOT_LINKED)
        await self._links.delete_link(team_id, channel_id)
        await self._drop_webhooks(link.project_gid)
        return wording.unlinked(link.project_name)

    async def unlink_workspace(self, team_id: TeamId) -> int:
        """The app was uninstalled from a workspace: its channels stop being linked (their Asana webhooks go with
        them), so nothing is relayed, nagged or polled for it any more. Tasks in Asana are left as they are."""
        gone = [link for link in await self._links.list_links() if link.team_id == team_id]
        for link in gone:
            await self._links.delete_link(link.team_id, link.channel_id)
            await self._drop_webhooks(link.project_gid)
        return len(gone)

    async def status(self, team_id: TeamId, channel_id: ChannelId) -> str:
        link = await self._links.get_link(team_id, channel_id)
        if link is None:
            raise UserError(wording.NOT_LINKED)
        counts = await self._inbox.inbox_counts()
        return wording.status(
            link,
            webhook=await self._webhook_health(link.project_gid),
            pending=counts.get("pending", 0),
            parked=counts.get("parked", 0),
        )

    async def _asana_project(self, project_gid: str, ref: str) -> Project:
        try:
            return await self._asana.project(project_gid)
        except (AsanaNotFound, AsanaForbidden):
            raise UserError(wording.project_not_visible(ref)) from None

    async def _drop_webhooks(self, project_gid: ProjectGid) -> None:
        if await self._links.links_for_project(project_gid):
            return  # another channel still links this project
        for registration in await self._webhooks.webhooks_for_project(project_gid):
            if registration.webhook_gid:
                try:
                    await self._asana.delete_webhook(registration.webhook_gid)
                except AsanaError as exc:
                    log.warning("could not delete webhook %s: %s", registration.webhook_gid, exc)
            await self._webhooks.delete_webhook(registration.hook_key)

    async def _webhook_health(self, project_gid: ProjectGid) -> str:
        registrations = await self._webhooks.webhooks_for_project(project_gid)
        if any(r.status is WebhookStatus.ACTIVE for r in registrations):
            return wording.WEBHOOK_ACTIVE
        return wording.WEBHOOK_POLLING
