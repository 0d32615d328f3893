"""The bridge's Asana webhooks: registering one per linked project, and a reconcile round that keeps them alive."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bridge import wording
from bridge.domain.model import Link, ProjectGid, WebhookRegistration, WebhookStatus
from bridge.domain.work import Webhook
from bridge.errors import AsanaError, SlackError
from bridge.ports import AsanaPort, Clock, LinkReads, SlackTeams, WebhookStore

log = logging.getLogger(__name__)

# Task added/changed/removed/deleted and comments (story added): what the relay needs, nothing more.
WEBHOOK_FILTERS = [
    {"resource_type": "task", "action": action} for action in ("added", "changed", "removed", "deleted")
] + [{"resource_type": "story", "action": "added"}]

# Asana deletes a webhook after 24 h of failed deliveries, so no failing streak outlives a day: one alert per
# webhook per day tells each streak once, while Asana's retries keep moving last_failure_at within it.
ALERT_QUIET = timedelta(hours=24)
# The handshake happens inside the create call; a PENDING registration younger than this is registering now.
REGISTERING = timedelta(minutes=2)


@dataclass(frozen=True)
class Registered:
    active: bool
    message: str  # what the user who linked is told about updates from Asana


class WebhookRegistrar:
    """Registers a project's webhook: a PENDING row, `create_webhook` (the handshake arrives meanwhile), ACTIVE."""

    def __init__(
        self, *, webhooks: WebhookStore, asana: AsanaPort, clock: Clock, webhook_target: Callable[[str], str | None]
    ) -> None:
        self._webhooks = webhooks
        self._asana = asana
        self._clock = clock
        self._webhook_target = webhook_target

    @property
    def enabled(self) -> bool:
        """Without a public URL Asana cannot reach the bridge: polling covers every project."""
        return self._webhook_target("") is not None

    def hook_key(self, target: str) -> str | None:
        """The hook key of one of this bridge's webhook URLs; None for a URL that is not the bridge's."""
        prefix = self._webhook_target("")
        if prefix is None or not target.startswith(prefix) or len(target) == len(prefix):
            return None
        return target[len(prefix) :]

    async def register(self, link: Link) -> Registered:
        """Register the project's webhook (once per project), or say that polling will cover it."""
        active = [
            w for w in await self._webhooks.webhooks_for_project(link.project_gid) if w.status is WebhookStatus.ACTIVE
        ]
        if active:
            return Registered(True, wording.WEBHOOK_ACTIVE)
        hook_key = secrets.token_urlsafe(24)
        target = self._webhook_target(hook_key)
        if target is None:
            return Registered(False, wording.WEBHOOK_POLLING)
        pending = WebhookRegistration(
            hook_key=hook_key,
            team_id=link.team_id,
            channel_id=link.channel_id,
            project_gid=link.project_gid,
            status=WebhookStatus.PENDING,
            created_at=self._clock.now(),
        )
        await self._webhooks.save_webhook(pending)
        try:
            webhook_gid, reported_secret = await self._asana.create_webhook(link.project_gid, target, WEBHOOK_FILTERS)
        except AsanaError as exc:
            log.warning("webhook for project %s not registered: %s", link.project_gid, exc)
            await self._webhooks.save_webhook(replace(pending, status=WebhookStatus.FAILED))
            return Registered(False, wording.webhook_failed(str(exc)))
        stored = await self._webhooks.get_webhook(hook_key)
        if stored is None or stored.secret is None or not secrets.compare_digest(stored.secret, reported_secret):
            # The handshake we answered was not the one Asana reports: do not trust this hook.
            log.error(
                "webhook %s for project %s: handshake secret mismatch, deleting it", webhook_gid, link.project_gid
            )
            await self._asana.delete_webhook(webhook_gid)
            await self._webhooks.save_webhook(replace(pending, status=WebhookStatus.FAILED))
            return Registered(False, wording.webhook_failed("handshake mismatch"))
        await self._webhooks.save_webhook(replace(stored, webhook_gid=webhook_gid, status=WebhookStatus.ACTIVE))
        return Registered(True, wording.WEBHOOK_ACTIVE)


@dataclass
class ReconcileReport:
    listed: int = 0
    recreated: list[ProjectGid] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # webhook gids
    alerted: list[str] = field(default_factory=list)  # webhook gids
    error: str | None = None


def failure_to_alert(hook: Webhook, alerted_at: datetime | None, *, now: datetime) -> datetime | None:
    """The delivery failure to tell the channels about, or None when there is none or it was told already."""
    if hook.last_failure_at:
        failed_at = datetime.fromisoformat(hook.last_failure_at)
    elif hook.delivery_retry_count > 0:
        failed_at = now  # failing, though Asana gave no moment
    else:
        return None
    if alerted_at is not None and failed_at < alerted_at + ALERT_QUIET:
        return None
    return failed_at


class WebhookReconciler:
    """One round: compare the store with Asana's list, re-create lost webhooks, delete strays, alert on failures.

    Webhooks are at-most-once and Asana deletes one after 24 h of failed deliveries without telling anyone; the
    Events API poller fills the gap meanwhile, and this round brings the webhook back. One read of Asana's list.
    """

    def __init__(
        self,
        *,
        webhooks: WebhookStore,
        links: LinkReads,
        asana: AsanaPort,
        slack: SlackTeams,
        clock: Clock,
        registrar: WebhookRegistrar,
        workspace_gid: Callable[[], str | None],
    ) -> None:
        self._webhooks = webhooks
        self._links = links
        self._asana = asana
        self._slack = slack
        self._clock = clock
        self._registrar = registrar
        self._workspace_gid = workspace_gid

    async def reconcile(self) -> ReconcileReport:
        report = ReconcileReport()
        workspace = self._workspace_gid()
        if not self._registrar.enabled or workspace is None:
            return report  # no public URL (polling covers it), or Asana's identity is not known yet
        # Read before the list: a registration that had its webhook gid then and is missing from the list is gone.
        before = {r.hook_key: r for r in await self._webhooks.list_webhooks()}
        try:
            listed = await self._asana.webhooks_of(workspace)
        except AsanaError as exc:
            log.warning("webhook reconcile: listing the webhooks failed: %s", exc)
            report.error = str(exc)
            return report
        report.listed = len(listed)
        # Read after the list: a link is saved before its webhook is created, so each listed webhook finds its link.
        links: dict[ProjectGid, list[Link]] = {}
        for link in await self._links.list_links():
            links.setdefault(link.project_gid, []).append(link)
        after = {r.hook_key: r for r in await self._webhooks.list_webhooks()}
        ours = [(hook, key) for hook in listed if (key := self._registrar.hook_key(hook.target)) is not None]
        try:
            await self._delete_strays(ours, links, after, report)
            await self._alert(ours, links, after, report)
            await self._restore(before, {hook.gid for hook, _ in ours}, links, report)
        except AsanaError as exc:
            log.warning("webhook reconcile: round ended early: %s", exc)
            report.error = str(exc)
        return report

    async def _delete_strays(
        self,
        ours: list[tuple[Webhook, str]],
        links: dict[ProjectGid, list[Link]],
        registrations: dict[str, WebhookRegistration],
        report: ReconcileReport,
    ) -> None:
        """Each webhook counts against Asana's 1,000 per resource: drop those of unlinked or forgotten projects."""
        for hook, key in ours:
            if ProjectGid(hook.resource_gid) in links and key in registrations:
                continue
            log.info("deleting webhook %s of project %s: no link or registration uses it", hook.gid, hook.resource_gid)
            await self._asana.delete_webhook(hook.gid)
            if key in registrations:
                await self._webhooks.delete_webhook(key)
            report.deleted.append(hook.gid)

    async def _alert(
        self,
        ours: list[tuple[Webhook, str]],
        links: dict[ProjectGid, list[Link]],
        registrations: dict[str, WebhookRegistration],
        report: ReconcileReport,
    ) -> None:
        for hook, key in ours:
            registration = registrations.get(key)
            channels = links.get(ProjectGid(hook.resource_gid), [])
            if registration is None or registration.status is not WebhookStatus.ACTIVE or not channels:
                continue
            failed_at = failure_to_alert(hook, registration.failure_alerted_at, now=self._clock.now())
            if failed_at is None:
                continue
            # The detail is for the operator (here and in /healthz); the channel hears one short line.
            log.warning(
                "webhook %s of project %s reports failed deliveries (last at %s, %d retries): %.300s; the Events API "
                "fills the gap meanwhile, and Asana deletes the webhook after 24 hours of failures (then it is "
                "registered again)",
                hook.gid,
                hook.resource_gid,
                hook.last_failure_at,
                hook.delivery_retry_count,
                hook.last_failure_content or "no detail",
            )
            told = 0
            for link in channels:
                try:
                    slack = self._slack.for_team(link.team_id)
                    await slack.post_message(link.channel_id, wording.webhook_failing(link.project_name))
                    told += 1
                except SlackError as exc:
                    log.warning("could not alert channel %s about webhook %s: %s", link.channel_id, hook.gid, exc)
            if told:  # if no channel heard it, the next round tries again
                await self._webhooks.mark_webhook_alerted(key, failed_at)
                report.alerted.append(hook.gid)

    async def _restore(
        self,
        before: dict[str, WebhookRegistration],
        live: set[str],
        links: dict[ProjectGid, list[Link]],
        report: ReconcileReport,
    ) -> None:
        """Give every linked project a live webhook again; a registration whose webhook Asana dropped is replaced."""
        now = self._clock.now()
        for project_gid, project_links in sorted(links.items()):
            rows = await self._webhooks.webhooks_for_project(project_gid)
            if any(_in_use(row, before, live, now) for row in rows):
                continue
            for row in rows:
                log.info("project %s: replacing webhook registration %s (%s)", project_gid, row.webhook_gid, row.status)
                await self._webhooks.delete_webhook(row.hook_key)
            registered = await self._registrar.register(project_links[0])
            if not registered.active:
                # register() logged Asana's answer; the next round tries again.
                report.error = f"project {project_gid}: {registered.message}"
                return
            report.recreated.append(project_gid)


def _in_use(row: WebhookRegistration, before: dict[str, WebhookRegistration], live: set[str], now: datetime) -> bool:
    """Whether a registration stands for a webhook that works, or may be about to (a registration under way)."""
    if row.status is WebhookStatus.FAILED:
        return False
    if row.webhook_gid is None:
        # Registering: the handshake makes a row ACTIVE before the create call returns the webhook's gid.
        return now - row.created_at < REGISTERING
    seen = before.get(row.hook_key)
    if seen is None or seen.webhook_gid is None:
        return True  # its webhook was created while Asana's list was read, so the list may not show it
    return row.webhook_gid in live
