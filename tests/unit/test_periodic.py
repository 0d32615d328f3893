"""Periodic loops: a round that did work runs again at once, one that found none rests, and a wake ends the rest."""

from __future__ import annotations

import asyncio

from bridge.entrypoints.periodic import Next, Periodic

LONG = 60.0  # a rest no test waits out: a round after it proves a wake


class Rounds:
    """Rounds that answer from a script (the last answer repeats) and count themselves."""

    def __init__(self, *answers: Next) -> None:
        self.answers = list(answers)
        self.count = 0
        self.ran = asyncio.Event()
        self.during: list[object] = []  # called inside the next round, once

    async def __call__(self) -> Next:
        self.count += 1
        self.ran.set()
        while self.during:
            call = self.during.pop()
            assert callable(call)
            call()
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    async def reach(self, count: int) -> None:
        async with asyncio.timeout(5):
            while self.count < count:
                self.ran.clear()
                await self.ran.wait()


async def turns(n: int = 50) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_a_round_that_did_work_runs_again_at_once_and_an_idle_one_rests() -> None:
    rounds = Rounds(True, True, False)
    loop = Periodic("test", rounds, interval=LONG)
    loop.start()
    try:
        await rounds.reach(3)
        await turns()
        assert rounds.count == 3  # resting after the idle third round
    finally:
        await loop.stop()


async def test_a_wake_ends_the_rest() -> None:
    rounds = Rounds(LONG)
    loop = Periodic("test", rounds, interval=0.01)  # the answer's rest, not the interval, applies
    loop.start()
    try:
        await rounds.reach(1)
        await turns()
        assert rounds.count == 1
        loop.wake()
        await rounds.reach(2)
    finally:
        await loop.stop()


async def test_a_wake_during_a_round_skips_the_rest_after_it() -> None:
    rounds = Rounds(False)
    loop = Periodic("test", rounds, interval=LONG)
    rounds.during.append(loop.wake)  # work arrives while the first round runs, maybe after it looked
    loop.start()
    try:
        await rounds.reach(2)
        await turns()
        assert rounds.count == 2
    finally:
        await loop.stop()


async def test_stopping_ends_a_long_rest_at_once() -> None:
    rounds = Rounds(LONG)
    loop = Periodic("test", rounds, interval=LONG)
    loop.start()
    await rounds.reach(1)
    async with asyncio.timeout(5):
        await loop.stop()
    assert rounds.count == 1


async def test_a_failing_round_rests_the_interval_and_the_loop_goes_on() -> None:
    calls = 0
    again = asyncio.Event()

    async def failing() -> Next:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("a bad round")
        again.set()
        return LONG

    loop = Periodic("test", failing, interval=0.0)
    loop.start()
    try:
        async with asyncio.timeout(5):
            await again.wait()
    finally:
        await loop.stop()
