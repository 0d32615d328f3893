"""`python -m bench.floors ack|ack-bolt-defaults|ack-keep|intake`: the least an app could do, served as `bridge serve`
serves the bridge.

A floor is what the bridge is measured beside: `ack` is a bare slack_bolt AsyncApp that only acks /task, mounted
on aiohttp through Bolt's adapter, answering when its listener returns as the bridge's Bolt app does
(`process_before_response`); `ack-bolt-defaults` is the same app as Bolt's defaults make it, polling for the ack
every 10 ms; `ack-keep` is `ack` that also keeps what it acked, the least an app that loses no command in a crash
must do: the commands acked since its last write go to a SQLite file (WAL) in one statement, on a thread, as
sqlite3 blocks; `intake` is a bare aiohttp handler that only checks an Asana delivery's
X-Hook-Signature and answers 200. Both log requests at INFO like the bridge, and answer GET /healthz.
Settings come from the bridge's variables (BRIDGE_PORT, SLACK_*) plus BENCH_HOOK_SECRET.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import logging
import os
import signal
import sqlite3
from collections.abc import Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def ack_app(
    *, token: str, signing_secret: str, api_url: str, process_before_response: bool, keep: Keeper | None = None
) -> web.Application:
    bolt = AsyncApp(
        client=AsyncWebClient(token=token, base_url=api_url),
        signing_secret=signing_secret,
        name="bench-floor",
        process_before_response=process_before_response,
    )

    @bolt.command("/task")
    async def task(ack: AsyncAck, command: dict[str, str]) -> None:
        await ack()
        if keep is not None:
            keep.accept(command)

    async def slack_events(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.add_routes([web.post("/slack/events", slack_events), web.get("/healthz", healthz)])
    return app


class Keeper:
    """Keeps acked commands in a SQLite file: those acked since the last write, in one statement on one thread."""

    FIELDS = ("team_id", "channel_id", "user_id", "text", "trigger_id", "response_url")

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute(f"CREATE TABLE IF NOT EXISTS commands ({', '.join(self.FIELDS)})")
        self._arrived: list[tuple[str, ...]] = []
        self._writing: asyncio.Task[None] | None = None

    def accept(self, command: dict[str, str]) -> None:
        self._arrived.append(tuple(str(command.get(field, "")) for field in self.FIELDS))
        if self._writing is None:
            self._writing = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        try:
            while self._arrived:
                batch, self._arrived = self._arrived, []
                await asyncio.to_thread(self._insert, batch)
        finally:
            self._writing = None

    def _insert(self, rows: list[tuple[str, ...]]) -> None:
        marks = "(" + ", ".join("?" for _ in self.FIELDS) + ")"
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            values = ", ".join(marks for _ in chunk)
            self._db.execute(f"INSERT INTO commands VALUES {values}", [value for row in chunk for value in row])


def intake_app(*, secret: str) -> web.Application:
    async def delivery(request: web.Request) -> web.Response:
        body = await request.read()
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-Hook-Signature", "")):
            return web.json_response({"error": "invalid signature"}, status=401)
        return web.json_response({"ok": True})

    app = web.Application()
    app.add_routes([web.post("/asana/webhooks/{hook_key}", delivery), web.get("/healthz", healthz)])
    return app


async def serve(make: Callable[[], web.Application], port: int) -> None:
    # Made inside the loop, as `bridge serve` builds the bridge: Bolt and aiohttp objects belong to a loop.
    runner = web.AppRunner(make(), handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floors")
    parser.add_argument("floor", choices=("ack", "ack-bolt-defaults", "ack-keep", "intake"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    env = os.environ

    def make() -> web.Application:
        if args.floor in ("ack", "ack-bolt-defaults", "ack-keep"):
            return ack_app(
                token=env["SLACK_BOT_TOKEN"],
                signing_secret=env["SLACK_SIGNING_SECRET"],
                api_url=env["SLACK_API_URL"],
                process_before_response=args.floor != "ack-bolt-defaults",
                keep=Keeper("commands.db") if args.floor == "ack-keep" else None,
            )
        return intake_app(secret=env["BENCH_HOOK_SECRET"])

    asyncio.run(serve(make, int(env["BRIDGE_PORT"])))


if __name__ == "__main__":
    main()
