"""`python -m bench.floors ack|ack-bolt-defaults|intake`: the least an app could do, served as `bridge serve` serves
the bridge.

A floor is what the bridge is measured beside: `ack` is a bare slack_bolt AsyncApp that only acks /task, mounted
on aiohttp through Bolt's adapter, answering when its listener returns as the bridge's Bolt app does
(`process_before_response`); `ack-bolt-defaults` is the same app as Bolt's defaults make it, polling for the ack
every 10 ms; `intake` is a bare aiohttp handler that only checks an Asana delivery's
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
from collections.abc import Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def ack_app(*, token: str, signing_secret: str, api_url: str, process_before_response: bool) -> web.Application:
    bolt = AsyncApp(
        client=AsyncWebClient(token=token, base_url=api_url),
        signing_secret=signing_secret,
        name="bench-floor",
        process_before_response=process_before_response,
    )

    @bolt.command("/task")
    async def task(ack: AsyncAck) -> None:
        await ack()

    async def slack_events(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.add_routes([web.post("/slack/events", slack_events), web.get("/healthz", healthz)])
    return app


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
    parser.add_argument("floor", choices=("ack", "ack-bolt-defaults", "intake"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    env = os.environ

    def make() -> web.Application:
        if args.floor in ("ack", "ack-bolt-defaults"):
            return ack_app(
                token=env["SLACK_BOT_TOKEN"],
                signing_secret=env["SLACK_SIGNING_SECRET"],
                api_url=env["SLACK_API_URL"],
                process_before_response=args.floor == "ack",
            )
        return intake_app(secret=env["BENCH_HOOK_SECRET"])

    asyncio.run(serve(make, int(env["BRIDGE_PORT"])))


if __name__ == "__main__":
    main()
