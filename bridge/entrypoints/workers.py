"""Background loops of one process: the Events API poller (the gap-filler, and the only source without a URL), the
webhook reconciler, the capture sweeper, the nag scheduler and the replicas' heartbeat. The inbox's own loops are
in inbox_worker.py."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from bridge.adapters.errors import AsanaError, SyncTokenExpired
from bridge.domain.events import parse_delivery, to_inbox
from bridge.domain.model import Holder, InboxSource, ProjectGid, SyncToken, WebhookStatus
from bridge.domain.relay import recrawl_event, same_facts
from bridge.entrypoints.periodic import Every, Periodic
from bridge.ports import AsanaPort, CaptureStore, Clock, ReplicaStore, Store
from bridge.services.capture import Capture
from bridge.services.nags import Nagger
from bridge.services.routing import Router
from bridge.services.webhooks import WebhookReconciler
from bridge.tenancy import acting_for

log = logging.getLogger(__name__)


# A token's last good moment is when it was saved; re-crawl a little before that, in case clocks disagree.
RECRAWL_MARGIN = timedelta(minutes=5)


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
        reconcile_seconds: float = 600.0,
    ) -> None:
        self._reconcile_every = reconcile_seconds
        self._reconciled: dict[str, tuple[float, datetime]] = {}  # project → (monotonic, wall clock) of last round
        self._store = store
        self._asana = asana
        self._clock = clock
        self._fast = fast_seconds
        self._slow = slow_seconds
        self._due: dict[str, float] = {}
        self._loop: Periodic | None = None

    async def poll_project(self, project_gid: ProjectGid) -> int:
        """Read every waiting page of one project's events into the inbox; returns how many were new."""
        stored = await self._store.get_sync_token(project_gid)
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
        seen = {t.task_gid: t.snapshot for t in await self._store.tracked_tasks_of([task.gid for task in listed])}
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
        return await self._store.enqueue_events(inbox)

    async def poll_due(self, now: float) -> None:
        """Poll each linked project whose turn has come, and reconcile its snapshots on the slow cadence."""
        projects = {link.project_gid for link in await self._store.list_links()}
        for project_gid in sorted(projects):
            await self._reconcile_due(project_gid, now)
            if self._due.get(project_gid, 0.0) > now:
                continue
            hooked = any(w.status is WebhookStatus.ACTIVE for w in await self._store.webhooks_for_project(project_gid))
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

    def start(self, clock: Callable[[], float], *, interval: float = 1.0) -> None:
        async def round_() -> bool:
            await self.poll_due(clock())
            return False

        self._loop = Periodic("events-poller", round_, interval=interval)
        self._loop.start()

    async def stop(self) -> None:
        if self._loop is not None:
            await self._loop.stop()
            self._loop = None

    async def _save(self, project_gid: ProjectGid, token: str) -> None:
        await self._store.save_sync_token(
            SyncToken(resource_gid=project_gid, token=token, updated_at=self._clock.now())
        )


class WebhookReconcileLoop:
    """Runs the webhook reconciler every `every` seconds, the first time one period after start.

    Not at once: right after a start, links made in the first moments would race the round for their webhook.
    """

    def __init__(self, reconciler: WebhookReconciler) -> None:
        self._reconciler = reconciler
        self._loop: Periodic | None = None

    def start(self, clock: Callable[[], float], *, every: float, interval: float = 1.0) -> None:
        due = clock() + every

        async def round_() -> bool:
            nonlocal due
            if clock() < due:
                return False
            due = clock() + every
            await self._reconciler.reconcile()
            return False

        self._loop = Periodic("webhook-reconciler", round_, interval=min(interval, every))
        self._loop.start()

    async def stop(self) -> None:
        if self._loop is not None:
            await self._loop.stop()
            self._loop = None


class CaptureSweeper:
    """Finishes message captures cut off by a crash: claims older than `after` that never got a task.

    `after` is longer than a capture's own retries last, so the sweeper never races a capture still in progress.
    """

    def __init__(
        self, *, store: CaptureStore, capture: Capture, clock: Clock, after: timedelta, holder: Holder | None = None
    ) -> None:
        self._holder = holder  # commands held by a replica that stopped heartbeating are taken at once
        self._store = store
        self._capture = capture
        self._clock = clock
        self._after = after
        self._every = Every("capture-sweeper", self.sweep)

    async def sweep(self) -> int:
        now = self._clock.now()
        stale = await self._store.unfinished_captures(before=now - self._after, limit=20)
        for record in stale:
            try:
                with acting_for(record.team_id):  # the sweeper finishes captures of every workspace, one at a time
                    await self._capture.resume(record)
            except Exception as exc:  # one bad message must not stop the others; the next sweep tries again
                log.warning("could not finish the capture of %s/%s: %s", record.channel_id, record.message_ts, exc)
        # /task commands whose process ended before they did (its heartbeat stopped, or its hold ran out); each is
        # held by this sweeper for `after`, then free again for the next sweep (of any replica) if it could not be
        # finished (Asana still down).
        commands = await self._store.take_stale_commands(
            now=now, hold_until=now + self._after, limit=20, holder=self._holder
        )
        for command in commands:
            try:
                with acting_for(command.team_id):
                    await self._capture.finish_command(command)
            except Exception as exc:
                log.warning("could not finish /task %s of %s: %s", command.request_key, command.channel_id, exc)
        return len(stale) + len(commands)

    def start(self, *, every: float) -> None:
        self._every.start(every)

    async def stop(self) -> None:
        await self._every.stop()


class NagScheduler:
    """Every `BRIDGE_TICK_SECONDS` asks the nagger what is due, then lets the router route, ping and reassign over
    the same open tasks (both do nothing on replicas that do not lead)."""

    def __init__(self, nagger: Nagger, router: Router | None = None) -> None:
        self.nagger = nagger
        self.router = router
        self._every = Every("nag-scheduler", self.tick)
        self._frozen = False

    async def tick(self, now: datetime | None = None) -> None:
        now = now or self.nagger.now()
        if not self._frozen:
            gc.freeze()  # the heap of the start (see below)
        await self.nagger.tick(now)
        # Routing weighs every open task: they are read (whole now and then) only where a link routes.
        if self.router is not None and await self.router.routes():
            views = await self.nagger.open_views()
            if views is not None:
                await self.router.sweep(views, now)
        if not self._frozen:
            # What the start and the first tick made (modules, the tasks the tick remembers) lives as long as the
            # process: out of the collector's way. Every full collection walked all of it, holding the loop for
            # hundreds of milliseconds at 100,000 tracked tasks. Once: a freeze keeps any garbage cycle it catches.
            gc.freeze()
            self._frozen = True

    def start(self, *, every: float) -> None:
        self._every.start(every)

    async def stop(self) -> None:
        await self._every.stop()


class QuotaShare(Protocol):
    """A client-side quota that several processes may share (adapters.limits.RateLimiter)."""

    @property
    def per_minute(self) -> int: ...

    def share(self, parts: int) -> None: ...


class ReplicaHeartbeat:
    """Every `every` seconds this replica says it is alive, which keeps its claims its own (the others take over
    the work of a replica silent for `holder.alive_within`), and takes its share of Asana's quota, which belongs to
    the token, not to each replica: N replicas on one token each send at most 1/N of it."""

    def __init__(
        self,
        *,
        store: ReplicaStore,
        clock: Clock,
        limiter: QuotaShare,
        holder: Holder,
        on_share: Callable[[int], None] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._limiter = limiter
        self._on_share = on_share
        self.holder = holder
        self._every: Every | None = None

    @property
    def replica_id(self) -> str:
        return self.holder.replica_id

    async def beat(self) -> int:
        alive = await self._store.heartbeat(
            self.replica_id, now=self._clock.now(), alive_within=self.holder.alive_within
        )
        self._limiter.share(alive)
        if self._on_share is not None:
            self._on_share(self._limiter.per_minute)
        return alive

    async def start(self, *, every: float) -> None:
        """The first beat before anything is claimed (a claim by a replica never seen would look orphaned)."""
        try:
            await self.beat()
        except Exception as exc:  # the loop beats again; until then the others may take this one's claims
            log.warning("first heartbeat failed: %s", exc)
        self._every = Every("replica-heartbeat", self.beat)
        self._every.start(every)

    async def stop(self) -> None:
        if self._every is not None:
            await self._every.stop()
            self._every = None
        try:
            await self._store.leave(self.replica_id)
        except Exception as exc:  # stopping goes on: the others forget this replica after a while anyway
            log.warning("could not say this replica is leaving: %s", exc)
