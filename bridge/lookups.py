"""One policy for what the bridge remembers of Slack and Asana lookups: bounded in size, and expiring.

People join Slack after the bridge first looked for them, change their names, leave, come back from holiday;
what was found is kept for a while and what was not found only briefly, so a triager who joins after the first
lookup is mentioned within minutes, not after a restart. The size bound keeps a long-running process flat however
many people and projects it meets (least recently used entries go first).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cachetools import TLRUCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V | None  # None: looked for, not there
    at: float  # when it was read (on the timer)


class Lookups(Generic[K, V]):
    """Answers of one kind of lookup by key: a found value kept `found_seconds`, a miss kept `missing_seconds`."""

    def __init__(
        self,
        *,
        found_seconds: float,
        missing_seconds: float,
        maxsize: int = 10_000,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        def expires(_key: K, entry: _Entry[V], now: float) -> float:
            return now + (found_seconds if entry.value is not None else missing_seconds)

        self._timer = timer
        self._loading: dict[K, asyncio.Future[V | None]] = {}
        self._entries: TLRUCache[K, _Entry[V]] = TLRUCache(maxsize=maxsize, ttu=expires, timer=timer)

    def __len__(self) -> int:
        return len(self._entries)

    def known(self, key: K) -> bool:
        """Whether an answer (found or not) is still remembered."""
        return self._entries.get(key) is not None

    def get(self, key: K) -> V | None:
        """The remembered value; None when unknown or remembered as missing (see `known`)."""
        entry = self._entries.get(key)
        return entry.value if entry is not None else None

    def put(self, key: K, value: V | None) -> None:
        self._entries[key] = _Entry(value, self._timer())

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)

    async def get_or_load(
        self, key: K, load: Callable[[], Awaitable[V | None]], *, max_age: float | None = None
    ) -> V | None:
        """The remembered answer, else `load()`'s, remembered (an exception is not: the next call asks again).
        With `max_age`, an answer read longer ago than that is read again (a caller that must judge on fresh
        answers, where others may use the same ones for longer)."""
        entry = self._entries.get(key)
        if entry is not None and (max_age is None or self._timer() - entry.at < max_age):
            return entry.value
        # One read per key at a time: a burst of /task from one person would otherwise send one users.info each
        # (and be rate limited) before the first answer is remembered. The read is a task of its own, so a caller
        # that gives up (a timeout) does not cancel it for the others, and its answer is still remembered.
        loading = self._loading.get(key)
        if loading is None:
            loading = self._loading[key] = asyncio.ensure_future(self._load(key, load))
            loading.add_done_callback(_retrieved)  # a failure nobody waited for any more is not an asyncio warning
        return await asyncio.shield(loading)

    async def _load(self, key: K, load: Callable[[], Awaitable[V | None]]) -> V | None:
        try:
            value = await load()
            self.put(key, value)
            return value
        finally:
            del self._loading[key]


def _retrieved(done: asyncio.Future[Any]) -> None:
    if not done.cancelled():
        done.exception()
