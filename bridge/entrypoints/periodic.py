"""Rounds run one after another in the background of one process, until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


# What a round answers: True when it did work (the next round runs at once), False when it found none (the next
# runs after the loop's interval), or how many seconds to rest instead (a loop that knows nothing is on its way
# rests longer, and whoever brings work wakes it).
Next = bool | float


class Periodic:
    """Runs rounds one after another until stopped, pausing after a round that found nothing to do (see Next).

    Stopping lets the current round finish (cancelling mid-query would leak its database connection).
    """

    def __init__(self, name: str, round_: Callable[[], Awaitable[Next]], *, interval: float) -> None:
        self._name = name
        self._round = round_
        self._interval = interval
        self._stopping = False
        self._nudged = asyncio.Event()  # ends the pause: work arrived, or the loop is stopping
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self._name)

    def wake(self) -> None:
        """Run the next round now, without the pause (work came in). A wake during a round skips the pause after
        it: the round may have looked before the work arrived."""
        self._nudged.set()

    async def _run(self) -> None:
        while not self._stopping:
            self._nudged.clear()
            try:
                answer = await self._round()
            except Exception:
                log.exception("%s round failed", self._name)  # a bad round must not end the loop
                answer = False
            if answer is True:
                continue
            pause = self._interval if answer is False else float(answer)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudged.wait(), timeout=pause)

    async def stop(self, *, grace: float = 10.0) -> None:
        if self._task is None:
            return
        self._stopping = True
        self._nudged.set()
        done, _ = await asyncio.wait({self._task}, timeout=grace)
        if not done:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._task = None


class Every:
    """Runs one job every `every` seconds (a Periodic whose rounds are never busy), for the loops below."""

    def __init__(self, name: str, job: Callable[[], Awaitable[object]]) -> None:
        self._name = name
        self._job = job
        self._loop: Periodic | None = None

    def start(self, every: float) -> None:
        async def round_() -> bool:
            await self._job()
            return False

        self._loop = Periodic(self._name, round_, interval=every)
        self._loop.start()

    async def stop(self) -> None:
        if self._loop is not None:
            await self._loop.stop()
            self._loop = None
