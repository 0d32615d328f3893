"""Background work at shutdown: what runs is let finish, with the work it starts meanwhile, within the grace."""

from __future__ import annotations

import asyncio

from bridge.entrypoints.background import Background


async def test_drain_waits_for_work_started_by_work_it_waits_for() -> None:
    background = Background()
    finished: list[str] = []

    async def second() -> None:
        await asyncio.sleep(0.01)
        finished.append("second")

    async def first() -> None:
        await asyncio.sleep(0.01)
        background.spawn(second(), name="second")  # as the /task backlog's keeper starts its workers
        finished.append("first")

    background.spawn(first(), name="first")
    await background.drain(grace=5)
    assert finished == ["first", "second"] and background.pending == 0


async def test_drain_cancels_what_outlasts_the_grace_even_if_started_during_it() -> None:
    background = Background()
    cancelled: list[str] = []

    async def endless(name: str) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(name)
            raise

    async def starter() -> None:
        background.spawn(endless("started later"), name="later")
        await endless("first")

    background.spawn(starter(), name="first")
    await background.drain(grace=0.05)
    assert sorted(cancelled) == ["first", "started later"] and background.pending == 0
