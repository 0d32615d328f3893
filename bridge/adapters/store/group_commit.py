"""Group commit: writes arriving together share one transaction, and each caller returns once its own is safe.

A burst of webhook deliveries then costs a few transactions instead of one each, and none is answered before what
it brought is committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """`commit(items)` writes the items waiting together in one transaction and returns one result per item."""

    def __init__(self, commit: Callable[[list[T]], Awaitable[Sequence[R]]], *, name: str) -> None:
        self._commit = commit
        self._name = name
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._committer: asyncio.Task[None] | None = None

    async def add(self, item: T) -> R:
        """Returns once the transaction holding `item` is committed; raises what that transaction raised."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[R] = loop.create_future()
        self._waiting.append((item, done))
        if self._committer is None or self._committer.done():
            self._committer = loop.create_task(self._run(), name=self._name)
        return await asyncio.shield(done)  # a caller that gives up does not cancel the others' commit

    async def finish(self) -> None:
        """Let a commit in progress finish (before the connection it uses is closed)."""
        if self._committer is not None and not self._committer.done():
            await asyncio.wait({self._committer})

    async def _run(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                results = await self._commit([item for item, _ in batch])
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, done), result in zip(batch, results, strict=True):
                if not done.done():
                    done.set_result(result)
