"""Background loops of one process: the Events API poller (the gap-filler, and the only source without a URL), the
webhook reconciler, the capture sweeper, the nag scheduler and the replicas' heartbeat. The inbox's own loops are
in inbox_worker.py."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from bridge.domain.model import Holder
from bridge.entrypoints.periodic import Every, Periodic
from bridge.ports import CaptureStore, Clock, ReplicaStore
from bridge.services.capture import Capture
from bridge.services.events_polling import EventsPolling
from bridge.services.nags import Nagger
from bridge.services.routing import Router
from bridge.services.webhooks import WebhookReconciler

log = logging.getLogger(__name__)


class EventsPoller(EventsPolling):
    """The Events API poller's rules (services/events_polling.py), run in a loop."""

    _loop: Periodic | None = None  # while started

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
                await self._capture.recovery.resume(record)  # of any workspace: the record names it
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
                await self._capture.recovery.finish_command(command)
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
