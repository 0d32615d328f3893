"""What every scene of `bridge demo` uses: the transcript it prints, and waits on the emulators and the bridge."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bridge.sandbox.harness import LocalBridge
from bridge.sandbox.world import World

T = TypeVar("T")


class Transcript:
    def __init__(self) -> None:
        self._started = time.monotonic()
        self._step = 0
        self.people: dict[str, str] = {}  # Slack user id → name: mentions are printed as @name

    def readable(self, text: str) -> str:
        """Slack's markup as a person sees it: <@U1> as @ana, <url|label> as label."""
        text = re.sub(r"<@(\w+)>", lambda m: "@" + self.people.get(m.group(1), m.group(1)), text)
        return re.sub(r"<(?:https?://[^|>]+)\|([^>]+)>", r"\1", text)

    def step(self, title: str) -> None:
        self._step += 1
        print(f"\n== {self._step}. {title}", flush=True)

    def line(self, side: str, text: str) -> None:
        elapsed = time.monotonic() - self._started
        if side == "slack":
            text = self.readable(text)
        for index, part in enumerate(text.splitlines() or [""]):
            prefix = f"[{elapsed:6.2f}s] {side:<7}" if index == 0 else " " * 17
            print(f"{prefix} {part}", flush=True)


async def until(check: Callable[[], T | None], *, timeout: float = 10.0) -> T:
    deadline = time.monotonic() + timeout
    while (value := check()) is None or value == []:
        if time.monotonic() > deadline:
            raise TimeoutError("the demo waited too long for the bridge")
        await asyncio.sleep(0.02)
    return value


def task_named(world: World, name: str) -> Any:
    return next((t for t in world.asana.store.tasks.values() if t.name == name), None)


async def until_async(check: Callable[[], Awaitable[Any]], *, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := await check()):
        if time.monotonic() > deadline:
            raise TimeoutError("the demo waited too long for the bridge")
        await asyncio.sleep(0.05)
    return value


async def tracked_task(local: LocalBridge, gid: str) -> Any:
    return await local.bridge.store.get_tracked_task(gid)  # type: ignore[arg-type]
