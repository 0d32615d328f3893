"""Full collections held off during a report's reload, and the collector's own settings given back after."""

from __future__ import annotations

import asyncio
import gc

from bridge.services.collector import full_collections_held_off


def test_no_full_collection_starts_within_the_block_and_the_thresholds_come_back() -> None:
    before = gc.get_threshold()
    full: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            full.append(1)

    gc.callbacks.append(seen)
    try:
        with full_collections_held_off():
            kept = [[n] for n in range(300_000)]  # many tracked objects alive: enough to set off full collections
            assert gc.get_threshold()[:2] == before[:2]
        assert full == []
        assert gc.get_threshold() == before
        del kept
    finally:
        gc.callbacks.remove(seen)


async def test_overlapping_reloads_give_the_thresholds_back_only_when_the_last_ends() -> None:
    before = gc.get_threshold()
    first_in, second_out = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        with full_collections_held_off():
            first_in.set()
            await second_out.wait()
            assert gc.get_threshold() != before  # the other reload ended: this one still holds them off

    async def second() -> None:
        await first_in.wait()
        with full_collections_held_off():
            pass
        second_out.set()

    await asyncio.gather(first(), second())
    assert gc.get_threshold() == before
