"""The Events API poller's rules: each linked project's events read with its stored sync token into the inbox (a
token that aged out re-crawls what changed), on a fast cadence without a webhook and a slow one with, and the
stored snapshots reconciled with Asana now and then. entrypoints/workers.py runs them in a loop."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bridge.domain.events import parse_delivery, to_inbox
from bridge.domain.model import InboxSource, ProjectGid, SyncToken, WebhookStatus
from bridge.domain.relay import recrawl_event, same_facts
from bridge.errors import AsanaError, SyncTokenExpired
from bridge.ports import AsanaPort, Clock, InboxArrivals, LinkReads, SyncTokenStore, TaskStore, WebhookStore

log = logging.getLogger(__name__)


# A token's last good moment is when it was saved; re-crawl a little before that, in case clocks disagree.
RECRAWL_MARGIN = timedelta(minutes=5)


class EventsPolling:
    """Polls Asana's Events API per linked project with stored sync tokens and feeds the same inbox as webhooks.

    Webhooks are at-most-once, so projects with a webhook are polled too, on the slow cadence; projects without one
    (no public URL, Socket Mode) are polled on the fast one. Inbox de-duplication makes the overlap harmless.
    """

    def __init__(
        self,
        *,
        sync_tokens: SyncTokenStore,
        inbox: InboxArrivals,
        tasks: TaskStore,
        links: LinkReads,
        webhooks: WebhookStore,
        asana: AsanaPort,
        clock: Clock,
        fast_seconds: float = 30.0,
        slow_seconds: float = 300.0,
        reconcile_seconds: float = 600.0,
    ) -> None:
        self._reconcile_every = reconcile_seconds
        self._reconciled: dict[str, tuple[float, datetime]] = {}  # project → (monotonic, wall clock) of last round
        self._sync_tokens = sync_tokens
        self._inbox = inbox
        self._tasks = tasks
        self._links = links
        self._webhooks = webhooks
        self._asana = asana
        self._clock = clock
        self._fast = fast_seconds
        self._slow = slow_seconds
        self._due: dict[str, float] = {}

    async def poll_project(self, project_gid: ProjectGid) -> int:
        """Read every waiting page of one project's events into the inbox; returns how many were new."""
        stored = await self._sync_tokens.get_sync_token(project_gid)
        token = stored.token if stored else None
        since = stored.updated_at - RECRAWL_MARGIN if stored else self._clock.now()
        added = 0
        while True:
            try:
                page = await self._asana.events_since(project_gid, token)
            except SyncTokenExpired as expired:
                if stored is not None:
                    # Events were missed while the token aged out: re-crawl what changed since it was last good.
                    log.warning("events sync token for project %s expired; re-crawling since %s", project_gid, since)
                    added += await self._recrawl(project_gid, since)
                await self._save(project_gid, expired.sync)
                return added
            if page.events:
                added += await self._enqueue(project_gid, parse_delivery({"events": list(page.events)}))
            token = page.sync
            await self._save(project_gid, token)
            if not page.has_more:
                return added

    async def _recrawl(self, project_gid: ProjectGid, since: datetime) -> int:
        """One paginated read of the tasks changed since `since`, turned into events the relay understands."""
        listed = await self._asana.tasks_modified_since(project_gid, since)
        return await self._enqueue(project_gid, [recrawl_event(task.raw, project_gid, since) for task in listed])

    async def reconcile_project(self, project_gid: ProjectGid, since: datetime) -> int:
        """Keep the stored snapshots honest (nags work from them): one paginated read of the tasks changed since
        `since`; followed tasks that say something their snapshot does not are queued for the relay, which catches
        up and tells what was missed. Snapshots that agree cost nothing more. Tasks nobody follows are left to the
        events: one listed here may be a capture whose thread is being made right now."""
        listed = await self._asana.tasks_modified_since(project_gid, since)
        seen = {t.task_gid: t.snapshot for t in await self._tasks.tracked_tasks_of([task.gid for task in listed])}
        events = []
        for task in listed:
            snapshot = seen.get(task.gid)
            if snapshot is None or same_facts(snapshot, task.raw, project_gid=project_gid):
                continue
            events.append(recrawl_event(task.raw, project_gid, since))
        if not events:
            return 0
        log.info("reconcile of project %s: %d task(s) changed without the relay hearing", project_gid, len(events))
        return await self._enqueue(project_gid, events)

    async def _enqueue(self, project_gid: ProjectGid, events: Sequence[Mapping[str, Any]]) -> int:
        """Events read from Asana (not delivered by a webhook) into the inbox; how many were new."""
        inbox = to_inbox(events, project_gid=project_gid, source=InboxSource.EVENTS_API, now=self._clock.now())
        return await self._inbox.enqueue_events(inbox)

    async def poll_due(self, now: float) -> None:
        """Poll each linked project whose turn has come, and reconcile its snapshots on the slow cadence."""
        projects = {link.project_gid for link in await self._links.list_links()}
        for project_gid in sorted(projects):
            await self._reconcile_due(project_gid, now)
            if self._due.get(project_gid, 0.0) > now:
                continue
            hooked = any(
                w.status is WebhookStatus.ACTIVE for w in await self._webhooks.webhooks_for_project(project_gid)
            )
            self._due[project_gid] = now + (self._slow if hooked else self._fast)
            try:
                await self.poll_project(project_gid)
            except AsanaError as exc:
                log.warning("events poll of project %s failed: %s", project_gid, exc)

    async def _reconcile_due(self, project_gid: ProjectGid, now: float) -> None:
        last = self._reconciled.get(project_gid)
        if last is not None and now - last[0] < self._reconcile_every:
            return
        moment = self._clock.now()
        # The first round after a start looks back one period: what changed while nobody watched.
        since = last[1] if last else moment - timedelta(seconds=self._reconcile_every)
        try:
            await self.reconcile_project(project_gid, since - RECRAWL_MARGIN)
        except AsanaError as exc:
            log.warning("snapshot reconcile of project %s failed: %s", project_gid, exc)
            return
        self._reconciled[project_gid] = (now, moment)

    async def _save(self, project_gid: ProjectGid, token: str) -> None:
        await self._sync_tokens.save_sync_token(
            SyncToken(resource_gid=project_gid, token=token, updated_at=self._clock.now())
        )
