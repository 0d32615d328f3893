"""The one cache policy for Slack and Asana lookups: found answers kept longer than misses, bounded in size."""

from __future__ import annotations

import asyncio

import pytest

from bridge.lookups import Lookups


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.mark.parametrize(
    ("value", "after", "remembered"),
    [
        ("U0ANA", 3599.0, True),  # found: an hour
        ("U0ANA", 3600.0, False),
        (None, 59.0, True),  # "no such user": a minute, so someone who joins is found soon
        (None, 60.0, False),
    ],
)
def test_found_answers_live_longer_than_misses(clock: Clock, value: str | None, after: float, remembered: bool) -> None:
    lookups: Lookups[str, str] = Lookups(found_seconds=3600, missing_seconds=60, timer=clock)
    lookups.put("ana@example.com", value)
    clock.now = after
    assert lookups.known("ana@example.com") is remembered
    assert lookups.get("ana@example.com") == (value if remembered else None)


async def test_get_or_load_asks_once_while_remembered_and_never_keeps_a_failure(clock: Clock) -> None:
    lookups: Lookups[str, str] = Lookups(found_seconds=10, missing_seconds=1, timer=clock)
    asked: list[str] = []

    async def nobody() -> str | None:
        asked.append("nobody")
        return None

    async def outage() -> str | None:
        raise ConnectionError("Slack is down")

    assert await lookups.get_or_load("cy", nobody) is None
    assert await lookups.get_or_load("cy", nobody) is None
    assert asked == ["nobody"]
    clock.now = 1.0  # the miss has expired: Cy joined meanwhile
    with pytest.raises(ConnectionError):
        await lookups.get_or_load("cy", outage)
    assert not lookups.known("cy")

    async def joined() -> str | None:
        return "U0CY"

    assert await lookups.get_or_load("cy", joined) == "U0CY"


def test_the_least_recently_used_go_first_beyond_the_bound(clock: Clock) -> None:
    lookups: Lookups[int, int] = Lookups(found_seconds=100, missing_seconds=100, maxsize=3, timer=clock)
    for n in range(3):
        lookups.put(n, n)
    assert lookups.get(0) == 0  # 0 was used: 1 is now the oldest
    lookups.put(3, 3)
    assert len(lookups) == 3 and not lookups.known(1) and lookups.known(0)
    lookups.forget(0)
    assert not lookups.known(0)


async def test_a_caller_may_ask_for_fresher_answers_than_the_policy_keeps(clock: Clock) -> None:
    lookups: Lookups[str, str] = Lookups(found_seconds=600, missing_seconds=60, timer=clock)
    answers = iter(["private", "public"])

    async def read() -> str | None:
        return next(answers)

    assert await lookups.get_or_load("project", read) == "private"
    clock.now = 59.0
    assert await lookups.get_or_load("project", read, max_age=60) == "private"
    clock.now = 60.0
    assert await lookups.get_or_load("project", read) == "private"  # the policy's ten minutes still hold
    assert await lookups.get_or_load("project", read, max_age=60) == "public"  # a minute old: read again
    assert lookups.get("project") == "public"


async def test_callers_asking_together_share_one_read_that_outlives_a_caller_giving_up(clock: Clock) -> None:
    lookups: Lookups[str, str] = Lookups(found_seconds=10, missing_seconds=1, timer=clock)
    asked: list[str] = []
    answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def users_info() -> str | None:
        asked.append("ana")
        return await answer

    impatient = asyncio.ensure_future(lookups.get_or_load("ana", users_info))
    waiting = [asyncio.ensure_future(lookups.get_or_load("ana", users_info)) for _ in range(49)]
    await asyncio.sleep(0)  # every caller is waiting on the read now
    impatient.cancel()  # a capture's name budget ran out
    answer.set_result("Ana")
    assert await asyncio.gather(*waiting) == ["Ana"] * 49
    assert asked == ["ana"]  # one users.info for fifty commands
    assert await lookups.get_or_load("ana", users_info) == "Ana" and asked == ["ana"]


async def test_a_failed_shared_read_reaches_every_caller_and_is_not_kept(clock: Clock) -> None:
    lookups: Lookups[str, str] = Lookups(found_seconds=10, missing_seconds=1, timer=clock)
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def outage() -> str | None:
        await gate
        raise ConnectionError("Slack is down")

    callers = [asyncio.ensure_future(lookups.get_or_load("bo", outage)) for _ in range(3)]
    await asyncio.sleep(0)
    gate.set_result(None)
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(result, ConnectionError) for result in results)
    assert not lookups.known("bo")
