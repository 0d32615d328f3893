"""The inbox's background loops: unpacking kept webhook deliveries, relaying settled events, forgetting old ones.
What each round does (leases, retries, parking) is services/inbox.py's."""

from __future__ import annotations

from datetime import timedelta

from bridge.entrypoints.periodic import Every, Periodic
from bridge.ports import Clock, InboxStore
from bridge.services.inbox import Inbox, Retention


class InboxWorker(Inbox):
    """The inbox's rules, run in two loops. On PostgreSQL several replicas drain together (SKIP LOCKED)."""

    _loops: tuple[Periodic, ...] = ()  # while started

    def start(self, *, interval: float = 0.2) -> None:
        """Two loops: one unpacks kept deliveries as they come, the other relays what has settled (a round of it
        can wait on Asana and Slack for seconds; unpacking never waits on them)."""

        async def unpack_round() -> bool:
            return await self.unpack() > 0

        async def relay_round() -> bool:
            return await self.relay_settled() > 0

        self._loops = (
            Periodic("inbox-unpacker", unpack_round, interval=interval),
            Periodic("inbox-worker", relay_round, interval=interval),
        )
        for loop in self._loops:
            loop.start()

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
