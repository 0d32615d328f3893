"""Background loops of one process: the Events API poller (the gap-filler, and the only source without a URL)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from bridge.adapters.errors import AsanaError, SlackError, SyncTokenExpired
from bridge.domain.events import delivery_events, parse_delivery, to_inbox
from bridge.domain.model import ClaimedEvent, InboxSource, ProjectGid, SyncToken, TaskGid, WebhookStatus
from bridge.domain.relay import group_by_task, recrawl_event, same_facts, task_of
from bridge.entrypoints.asana_webhooks import DeliveryPace
from bridge.metrics import Metrics
from bridge.ports import AsanaPort, Clock, Store
from bridge.services.capture import Capture
from bridge.services.nags import Nagger
from bridge.services.outbox import PostInFlight
from bridge.services.relay import Relay
from bridge.services.routing import Router
from bridge.services.webhooks import WebhookReconciler
from bridge.tenancy import acting_for

log = logging.getLogger(__name__)


RELAY_LANES = 4  # tasks relayed at once by one worker
FINISH_BATCH = 50
# Kept deliveries unpacked per transaction: enough to share its cost, few enough that the deliveries arriving
# meanwhile (they wait for the same SQLite writer) are not held up for more than a few milliseconds.
UNPACK_BATCH = 20
# Deliveries kept within this long count as a stream still coming in (see InboxWorker.unpack).
STREAMING = timedelta(milliseconds=50)
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


class InboxWorker:
    """Drains the inbox: claims events, lets a burst on one task settle for `window` seconds, relays it once.

    A failure gives the events back with a growing delay; after `max_attempts` they are parked with the reason,
    so one poison task never blocks the queue. On PostgreSQL several replicas drain together (SKIP LOCKED).
    """

    def __init__(
        self,
        *,
        store: Store,
        relay: Relay,
        clock: Clock,
        window: float = 2.0,
        lease_seconds: float = 120.0,
        batch: int = 200,
        max_attempts: int = 25,
        metrics: Metrics | None = None,
        pace: DeliveryPace | None = None,
    ) -> None:
        self._store = store
        self._relay = relay
        self._clock = clock
        self._window = timedelta(seconds=window)
        self._lease = lease_seconds
        self._batch = batch
        self._max_attempts = max_attempts
        self._metrics = metrics
        self._pace = pace
        # A burst is left whole for at most half the relay window: its events are unpacked before they would have
        # settled anyway, so what the relay tells, and when, does not change.
        self._hold_burst = self._window / 2
        self._burst_since: datetime | None = None
        self._caught_up = True  # the last unpack emptied the kept deliveries
        self._loops: list[Periodic] = []

    async def drain_once(self) -> int:
        """One round of both loops of `start()`: unpack kept deliveries, then relay what has settled. Returns how
        many deliveries were unpacked and events finished or parked."""
        return await self.unpack() + await self._relay_settled()

    async def unpack(self) -> int:
        """Kept webhook deliveries into inbox events (new ones only); how many deliveries.

        While a burst of deliveries streams in, and nothing was left over from before it, they are left whole for
        up to half the relay window: answering Asana comes first (each delivery then costs one small commit), and
        unpacking them would take the same CPU and the same SQLite writer as the deliveries still arriving. A
        longer stream is unpacked as it comes, after that."""
        if self._hold_unpacking():
            return 0
        unpacked = await self._store.unpack_deliveries(limit=UNPACK_BATCH, events_of=delivery_events)
        self._caught_up = unpacked.deliveries < UNPACK_BATCH
        if self._metrics is not None and unpacked.events:
            self._metrics.webhook_events.labels("accepted").inc(unpacked.added)
            self._metrics.webhook_events.labels("duplicate").inc(unpacked.events - unpacked.added)
        return unpacked.deliveries

    def _hold_unpacking(self) -> bool:
        now = self._clock.now()
        last = self._pace.last_kept if self._pace is not None else None
        if last is None or now - last > STREAMING:
            self._burst_since = None
            return False
        if self._burst_since is None:
            if not self._caught_up:
                return False  # behind already: a stream that outlasted its hold is unpacked as it comes
            self._burst_since = now
        if now - self._burst_since < self._hold_burst:
            return True
        self._caught_up = False  # held long enough: unpack until nothing is left over
        return False

    async def _relay_settled(self) -> int:
        """Claims settled events and relays them a task at a time, a few tasks at once: each waits mostly on Asana
        and Slack, and the Slack gateway keeps each channel to its pace. How many events were finished or parked."""
        now = self._clock.now()
        claimed = await self._store.claim_events(
            limit=self._batch, now=now, lease_seconds=self._lease, settle=self._window
        )
        groups = group_by_task(claimed)
        # Most events of a busy project are about tasks nobody follows: one read tells them apart for the whole
        # claim, instead of one per task. (A task followed a moment later, by a capture finishing, is told by the
        # capture itself, as when the read comes first.)
        followed = {t.task_gid for t in await self._store.tracked_tasks_of([TaskGid(g) for g in groups if g])}
        lanes = asyncio.Semaphore(RELAY_LANES)
        # Finished events are recorded a few dozen at a time, not one write per task: the inbox's writes compete
        # with the webhook deliveries being committed.
        finished: list[int] = []

        async def finish(ids: list[int], *, now_or_later: bool = False) -> None:
            finished.extend(ids)
            if len(finished) >= FINISH_BATCH or (now_or_later and finished):
                done, finished[:] = list(finished), []
                await self._store.finish_events(done)

        async def settle(task_gid: str, items: list[ClaimedEvent]) -> None:
            ids = [item.id for item in items]
            if not task_gid:
                await finish(ids)  # not about a task (a section, the project): nothing to tell
                return
            async with lanes:
                # A round of many tasks can outlast the claim: once a third of it is used, renew it before each
                # task, and leave a task whose claim ran out (another worker has it now) to that worker.
                started = self._clock.now()
                if started > items[0].lease_until - timedelta(seconds=self._lease * 2 / 3):
                    renewed = started + timedelta(seconds=self._lease)
                    if not await self._store.extend_lease(ids, held_until=items[0].lease_until, until=renewed):
                        log.info("claim on task %s ran out; another worker relays it", task_gid)
                        return
                    items = [replace(item, lease_until=renewed) for item in items]
                try:
                    await self._relay.relay_task(task_gid, items, untracked=task_gid not in followed)
                except Exception as exc:
                    await self._retry_or_park(items, exc, now)
                else:
                    await finish(ids)

        await asyncio.gather(*(settle(task_gid, items) for task_gid, items in groups.items()))
        await finish([], now_or_later=True)
        return len(claimed)

    async def _retry_or_park(self, items: list[ClaimedEvent], exc: Exception, now: datetime) -> None:
        expected = isinstance(exc, (AsanaError, SlackError, PostInFlight))
        if not expected:
            log.exception("relay of task %s failed", task_of(items[0].event.payload), exc_info=exc)
        for item in items:
            if item.attempts >= self._max_attempts:
                await self._store.park_event(item.id, f"{type(exc).__name__}: {exc}"[:500])
            else:
                delay = min(300.0, 2.0 ** min(item.attempts, 8))
                await self._store.release_event(item.id, retry_at=now + timedelta(seconds=delay))
        if expected:
            log.warning("relay of task %s delayed: %s", task_of(items[0].event.payload), exc)

    def start(self, *, interval: float = 0.2) -> None:
        """Two loops: one unpacks kept deliveries as they come, the other relays what has settled (a round of it
        can wait on Asana and Slack for seconds; unpacking never waits on them)."""

        async def unpack_round() -> bool:
            return await self.unpack() > 0

        async def relay_round() -> bool:
            return await self._relay_settled() > 0

        self._loops = [
            Periodic("inbox-unpacker", unpack_round, interval=interval),
            Periodic("inbox-worker", relay_round, interval=interval),
        ]
        for loop in self._loops:
            loop.start()

    async def stop(self) -> None:
        for loop in self._loops:
            await loop.stop()
        self._loops = []


class Periodic:
    """Runs rounds one after another until stopped, pausing `interval` after an idle round.

    Stopping lets the current round finish (cancelling mid-query would leak its database connection).
    """

    def __init__(self, name: str, round_: Callable[[], Awaitable[bool]], *, interval: float) -> None:
        self._name = name
        self._round = round_
        self._interval = interval
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self._name)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                busy = await self._round()
            except Exception:
                log.exception("%s round failed", self._name)  # a bad round must not end the loop
                busy = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=self._interval)

    async def stop(self, *, grace: float = 10.0) -> None:
        if self._task is None:
            return
        self._stopping.set()
        done, _ = await asyncio.wait({self._task}, timeout=grace)
        if not done:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._task = None


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


class InboxRetention:
    """Deletes relayed events once they are `keep` old. Until then a resend of one (Asana retries a failed delivery
    for a day; the Events API's sync token lasts a day) meets its key and is skipped; without this the inbox would
    grow by every event ever received. Replicas may sweep at once: deleting a row twice is harmless."""

    CHUNK = 1000  # rows per transaction: short holds of SQLite's writer

    def __init__(self, *, store: Store, clock: Clock, keep: timedelta) -> None:
        self._store = store
        self._clock = clock
        self._keep = keep
        self._loop: Periodic | None = None

    async def sweep(self) -> int:
        before = self._clock.now() - self._keep
        forgotten = 0
        while True:
            deleted = await self._store.forget_finished_events(before=before, limit=self.CHUNK)
            forgotten += deleted
            if deleted < self.CHUNK:
                break
        if forgotten:
            log.info("forgot %d relayed inbox events finished before %s", forgotten, before.isoformat())
        return forgotten

    def start(self, *, every: float) -> None:
        async def round_() -> bool:
            await self.sweep()
            return False

        self._loop = Periodic("inbox-retention", round_, interval=every)
        self._loop.start()

    async def stop(self) -> None:
        if self._loop is not None:
            await self._loop.stop()
            self._loop = None


class CaptureSweeper:
    """Finishes message captures cut off by a crash: claims older than `after` that never got a task.

    `after` is longer than a capture's own retries last, so the sweeper never races a capture still in progress.
    """

    def __init__(self, *, store: Store, capture: Capture, clock: Clock, after: timedelta) -> None:
        self._store = store
        self._capture = capture
        self._clock = clock
        self._after = after
        self._loop: Periodic | None = None

    async def sweep(self) -> int:
        stale = await self._store.unfinished_captures(before=self._clock.now() - self._after, limit=20)
        for record in stale:
            try:
                with acting_for(record.team_id):  # the sweeper finishes captures of every workspace, one at a time
                    await self._capture.resume(record)
            except Exception as exc:  # one bad message must not stop the others; the next sweep tries again
                log.warning("could not finish the capture of %s/%s: %s", record.channel_id, record.message_ts, exc)
        return len(stale)

    def start(self, *, every: float) -> None:
        async def round_() -> bool:
            await self.sweep()
            return False

        self._loop = Periodic("capture-sweeper", round_, interval=every)
        self._loop.start()

    async def stop(self) -> None:
        if self._loop is not None:
            await self._loop.stop()
            self._loop = None


class NagScheduler:
    """Every `BRIDGE_TICK_SECONDS` asks the nagger what is due, then lets the router route, ping and reassign over
    the same open tasks (both do nothing on replicas that do not lead)."""

    def __init__(self, nagger: Nagger, router: Router | None = None) -> None:
        self.nagger = nagger
        self.router = router
        self._loop: Periodic | None = None

    async def tick(self, now: datetime | None = None) -> None:
        now = now or self.nagger.now()
        await self.nagger.tick(now)
        views = self.nagger.open_views()
        if self.router is not None and views is not None:
            await self.router.sweep(views, now)

    def start(self, *, every: float) -> None:
        async def round_() -> bool:
            await self.tick()
            return False

        self._loop = Periodic("nag-scheduler", round_, interval=every)
        self._loop.start()

    async def stop(self) -> None:
        if self._loop is not None:
            await self._loop.stop()
            self._loop = None


class QuotaShare(Protocol):
    """A client-side quota that several processes may share (adapters.limits.RateLimiter)."""

    @property
    def per_minute(self) -> int: ...

    def share(self, parts: int) -> None: ...


class ReplicaHeartbeat:
    """Every `every` seconds this replica says it is alive and takes its share of Asana's quota, which belongs to
    the token, not to each replica: N replicas on one token each send at most 1/N of it."""

    def __init__(
        self, *, store: Store, clock: Clock, limiter: QuotaShare, on_share: Callable[[int], None] | None = None
    ) -> None:
        self._store = store
        self._clock = clock
        self._limiter = limiter
        self._on_share = on_share
        self.replica_id = secrets.token_hex(8)
        self._loop: Periodic | None = None

    async def beat(self, every: float) -> int:
        alive = await self._store.heartbeat(
            self.replica_id, now=self._clock.now(), alive_within=timedelta(seconds=3 * every)
        )
        self._limiter.share(alive)
        if self._on_share is not None:
            self._on_share(self._limiter.per_minute)
        return alive

    def start(self, *, every: float) -> None:
        async def round_() -> bool:
            await self.beat(every)
            return False

        self._loop = Periodic("replica-heartbeat", round_, interval=every)
        self._loop.start()

    async def stop(self) -> None:
        if self._loop is not None:
            await self._loop.stop()
            self._loop = None
        try:
            await self._store.leave(self.replica_id)
        except Exception as exc:  # stopping goes on: the others forget this replica after a while anyway
            log.warning("could not say this replica is leaving: %s", exc)
