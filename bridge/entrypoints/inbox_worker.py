"""The inbox's background loops: unpacking kept webhook deliveries, relaying settled events, forgetting old ones.
What each round does (leases, retries, parking) is services/inbox.py's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from bridge.entrypoints.periodic import Every, Next, Periodic
from bridge.ports import Clock, InboxStore
from bridge.services.inbox import Inbox, Retention

# How long the loops rest when nothing is on its way. An idle bridge polled its inbox ten times a second (2.5 % of a
# core with nothing to do; on PostgreSQL, ten queries a second per replica); now a kept delivery wakes the unpacker,
# unpacked events wake the relay, and only events still to settle or to retry keep the relay polling at `interval`.
# What else can bring work without a wake (the Events API poller's events, another replica's, a claim that ran
# out) waits at most this long, and the relay's rest is never longer than the window its events settle in.
IDLE_PAUSE = 2.0


class InboxWorker(Inbox):
    """The inbox's rules, run in two loops. On PostgreSQL several replicas drain together (SKIP LOCKED)."""

    _loops: tuple[Periodic, ...] = ()  # while started: the unpacker, the relay

    def start(self, *, interval: float = 0.2, idle: float | None = None) -> None:
        """Two loops: one unpacks kept deliveries as they come, the other relays what has settled (a round of it
        can wait on Asana and Slack for seconds; unpacking never waits on them). They rest `idle` (IDLE_PAUSE)
        when nothing is on its way."""
        idle = IDLE_PAUSE if idle is None else idle
        unpacker = Periodic("inbox-unpacker", self._unpack_round(interval, idle), interval=interval)
        relayer = Periodic("inbox-worker", self._relay_round(interval, idle), interval=interval)
        self._loops = (unpacker, relayer)
        for loop in self._loops:
            loop.start()

    def delivery_kept(self) -> None:
        """A webhook delivery was kept (entrypoints/asana_webhooks.py): look at once. Not while deliveries stream in:
        the unpacker then looks every `interval` anyway, and a wake per delivery would only add rounds."""
        if self._loops and not self.streaming:
            self._loops[0].wake()

    def _unpack_round(self, interval: float, idle: float) -> Callable[[], Awaitable[Next]]:
        async def unpack_round() -> Next:
            if await self.unpack() > 0:
                self._loops[1].wake()  # their events settle from now: the relay watches them
                return True
            return interval if self.streaming else idle

        return unpack_round

    def _relay_round(self, interval: float, idle: float) -> Callable[[], Awaitable[Next]]:
        rest = min(idle, max(interval, self.window.total_seconds()))

        async def relay_round() -> Next:
            if await self.relay_settled() > 0:
                return True
            return interval if await self.waiting() else rest

        return relay_round

    async def stop(self) -> None:
        for loop in self._loops:
            await loop.stop()
        self._loops = ()


class InboxRetention(Retention):
    """Forgets relayed events once they are old (services/inbox.py's Retention), every so often."""

    def __init__(self, *, store: InboxStore, clock: Clock, keep: timedelta) -> None:
        super().__init__(store=store, clock=clock, keep=keep)
        self._every = Every("inbox-retention", self.sweep)

    def start(self, *, every: float) -> None:
        self._every.start(every)

    async def stop(self) -> None:
        await self._every.stop()
