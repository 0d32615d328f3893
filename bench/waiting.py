"""Waiting for a condition by polling it, instead of sleeping a guessed time."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


@overload
async def wait_until(
    check: Callable[[], Awaitable[T | None]], *, timeout: float, interval: float = ..., what: str = ...
) -> T: ...
@overload
async def wait_until(check: Callable[[], T | None], *, timeout: float, interval: float = ..., what: str = ...) -> T: ...
async def wait_until(check: Callable[[], Any], *, timeout: float, interval: float = 0.01, what: str = "") -> Any:
    """Poll `check` (plain or async) until it returns something truthy and return that; TimeoutError after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what or 'condition'} not met within {timeout:g} s (last value: {value!r})")
        await asyncio.sleep(interval)
