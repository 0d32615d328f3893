"""`python -m bench.ack_sender`: the Slack side of the ack bench, in a process of its own.

Reads from stdin `{"url", "secret", "bodies", "warmup", "concurrency"}` (the slash commands' form bodies, made by
the emulator beforehand), posts each signed as Slack signs it, at most `concurrency` in flight, and writes
`{"statuses", "latencies", "elapsed"}` of the bodies after the warm-up to stdout.

Why a process: the bench process also runs the Slack and Asana emulators, which answer the bridge's background
calls while the commands are sent. A client on that loop counts its own waits for the loop in every ack it times,
and only during the bridge's run (the floor makes no such calls). Slack's senders are not slowed by Asana.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import aiohttp

from bench.load import Load, closed_loop
from bridge.sandbox.slack.signing import signature

FORM = "application/x-www-form-urlencoded"


async def send_all(job: dict[str, Any]) -> Load:
    bodies: list[str] = job["bodies"]
    warmup, concurrency = int(job["warmup"]), int(job["concurrency"])
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def send(n: int) -> tuple[int, float]:
            body = bodies[n]
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": FORM,
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": signature(job["secret"], timestamp, body),
            }
            started = time.perf_counter()
            async with session.post(job["url"], data=body.encode(), headers=headers) as response:
                await response.read()
                return response.status, time.perf_counter() - started

        await closed_loop(send, requests=warmup, concurrency=concurrency)
        return await closed_loop(send, requests=len(bodies) - warmup, concurrency=concurrency, first=warmup)


def main() -> None:
    load = asyncio.run(send_all(json.load(sys.stdin)))
    json.dump({"statuses": dict(load.statuses), "latencies": load.latencies, "elapsed": load.elapsed}, sys.stdout)


if __name__ == "__main__":
    main()
