"""Background loops of one process: the Events API poller (the gap-filler, and the only source without a URL)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from bridge.adapters.errors import AsanaError, SyncTokenExpired
from bridge.domain.events import parse_delivery, to_inbox
from bridge.domain.model import InboxSource, ProjectGid, SyncToken, WebhookStatus
from bridge.ports import AsanaPort, Clock, Store

log = logging.getLogger(__name__)


class EventsPoller:
    """Polls Asana's Events API per linked project with stored sync tokens and feeds the same inbox as webhooks.

    Webhooks are at-most-once, so projects with a webhook are polled too, on the slow cadence; projects without one
    (no public URL, Socket Mode) are polled on the fast one. Inbox de-duplication makes the overlap harmless.
    """

    def __init__(
        self,
        *,
        store: Store,
        asana: AsanaPort,
        clock: Clock,
        fast_seconds: float = 30.0,
        slow_seconds: float = 300.0,
    ) -> None:
        self._store = store
        self._asana = asana
        self._clock = clock
        self._fast = fast_seconds
        self._slow = slow_seconds
        self._due: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def poll_project(self, project_gid: ProjectGid) -> int:
        """Read every waiting page of one project's events into the inbox; returns how many were new."""
        stored = await self._store.get_sync_token(project_gid)
        token = stored.token if stored else None
        added = 0
        while True:
            try:
                page = await self._asana.events_since(project_gid, token)
            except SyncTokenExpired as expired:
                if token is not None:
                    # Events were missed (the token aged out): the relay's re-crawl fills that gap.
                    log.warning("events sync token for project %s expired; continuing from a new one", project_gid)
                await self._save(project_gid, expired.sync)
                return added
            if page.events:
                events = parse_delivery({"events": list(page.events)})
                inbox = to_inbox(events, project_gid=project_gid, source=InboxSource.EVENTS_API, now=self._clock.now())
                added += await self._store.enqueue_events(inbox)
            token = page.sync
            await self._save(project_gid, token)
            if not page.has_more:
                return added

    async def poll_due(self, now: float) -> None:
        """Poll each linked project whose turn has come."""
        projects = {link.project_gid for link in await self._store.list_links()}
        for project_gid in sorted(projects):
            if self._due.get(project_gid, 0.0) > now:
                continue
            hooked = any(w.status is WebhookStatus.ACTIVE for w in await self._store.webhooks_for_project(project_gid))
            self._due[project_gid] = now + (self._slow if hooked else self._fast)
            try:
                await self.poll_project(project_gid)
            except AsanaError as exc:
                log.warning("events poll of project %s failed: %s", project_gid, exc)

    def start(self, clock: Callable[[], float], *, interval: float = 1.0) -> None:
        self._stopping = asyncio.Event()

        async def loop() -> None:
            while not self._stopping.is_set():
                try:
                    await self.poll_due(clock())
                except Exception:
                    log.exception("events poller round failed")  # a bad round must not end the loop
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=interval)

        self._task = asyncio.get_running_loop().create_task(loop(), name="events-poller")

    async def stop(self, *, grace: float = 10.0) -> None:
        """Let the current round finish (cancelling mid-query would leak its connection), then end the loop."""
        if self._task is None:
            return
        self._stopping.set()
        done, _ = await asyncio.wait({self._task}, timeout=grace)
        if not done:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def _save(self, project_gid: ProjectGid, token: str) -> None:
        await self._store.save_sync_token(
            SyncToken(resource_gid=project_gid, token=token, updated_at=self._clock.now())
        )
