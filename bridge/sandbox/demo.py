"""`bridge demo`: the whole bridge against the emulators on 127.0.0.1, a scripted day, and a transcript."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from bridge.sandbox.harness import LocalBridge, serve_locally
from bridge.sandbox.world import World, start_world

T = TypeVar("T")


class Transcript:
    def __init__(self) -> None:
        self._started = time.monotonic()
        self._step = 0

    def step(self, title: str) -> None:
        self._step += 1
        print(f"\n== {self._step}. {title}", flush=True)

    def line(self, side: str, text: str) -> None:
        elapsed = time.monotonic() - self._started
        for index, part in enumerate(text.splitlines() or [""]):
            prefix = f"[{elapsed:6.2f}s] {side:<7}" if index == 0 else " " * 17
            print(f"{prefix} {part}", flush=True)


async def _until(check: Callable[[], T | None], *, timeout: float = 10.0) -> T:
    deadline = time.monotonic() + timeout
    while (value := check()) is None or value == []:
        if time.monotonic() > deadline:
            raise TimeoutError("the demo waited too long for the bridge")
        await asyncio.sleep(0.02)
    return value


async def run_demo(*, keep_running: bool = False) -> int:
    out = Transcript()
    print("Slack ⇄ Asana bridge demo: emulated Slack and Asana on 127.0.0.1, no accounts, no network.")
    world = await start_world()
    with tempfile.TemporaryDirectory(prefix="bridge-demo-") as workdir:
        local = await serve_locally(world, Path(workdir))
        try:
            out.line("setup", f"bridge on {local.url}, Slack API {world.slack.api_url}, Asana API {world.asana.url}")
            await _script(world, local, out)
            if keep_running:
                out.line("setup", f"still running; try {local.url}/healthz or {local.url}/metrics. Ctrl-C stops.")
                await asyncio.Event().wait()
        finally:
            await local.close()
            await world.stop()
    print("\nDemo finished.")
    return 0


async def _script(world: World, local: LocalBridge, out: Transcript) -> None:
    ana = local.slack.user("ana")
    channel = world.channel
    seen = len(world.slack.messages(channel))

    def new_posts() -> list[Any]:
        return world.slack.messages(channel)[seen:]

    out.step("Ana links #questions to the Asana project “Developer Questions”")
    text = f"link https://app.asana.com/0/{world.project}/list"
    out.line("slack", f"ana: /asana {text}")
    ack = await ana.slash_command("/asana", text, channel)
    out.line("bridge", f"ack {ack.status} in {ack.elapsed * 1000:.0f} ms: {ack.body}")
    posts = await _until(lambda: [m for m in new_posts() if "Linked" in m.text] or None)
    out.line("slack", f"#questions: {posts[-1].text}")
    for hook in world.asana.webhooks:
        out.line("asana", f"webhook {hook.gid} on the project → {hook.target} (handshake answered)")
    seen = len(world.slack.messages(channel))

    out.step("Ana creates a task with /task")
    text = f"Webhook retries need backoff {local.slack.mention('bo', escaped=True)} due:fri p1"
    out.line("slack", f"ana: /task {text}")
    ack = await ana.slash_command("/task", text, channel)
    out.line("bridge", f"ack {ack.status} in {ack.elapsed * 1000:.0f} ms: {ack.body}")
    task = await _until(lambda: next(iter(world.asana.store.tasks.values()), None))
    rendered = world.asana.render(
        "task",
        task.gid,
        "name,assignee.name,due_on,followers.name,memberships.section.name,custom_fields.display_value",
    )
    out.line("asana", f"task {task.gid}: {_summary(rendered)}")
    post = await _until(lambda: [m for m in new_posts() if m.thread_ts is None] or None)
    out.line("slack", f"#questions: {_plain(post[-1])} (its thread is the task's thread)")

    out.step("Bo completes the task in Asana; the signed webhook delivery lands in the bridge's inbox")
    world.asana.act(world.asana_people["bo"]).complete(task.gid)
    out.line("asana", "bo marked the task complete")
    await world.asana.deliveries_idle(timeout=10)
    counts = await local.bridge.store.inbox_counts()
    out.line("bridge", f"inbox: {counts.get('pending', 0)} event(s) accepted, verified by X-Hook-Signature")

    out.step("Health and metrics")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{local.url}/healthz") as response:
            out.line("bridge", f"GET /healthz → {response.status} {json.dumps(await response.json())}")
        async with http.get(f"{local.url}/metrics") as response:
            body = await response.text()
            calls = sum(
                float(line.rsplit(" ", 1)[1]) for line in body.splitlines() if line.startswith("bridge_api_calls_total")
            )
            out.line("bridge", f"GET /metrics → {response.status}; {calls:.0f} API calls so far")


def _summary(task: dict[str, Any]) -> str:
    parts = [f"“{task.get('name')}”"]
    if task.get("assignee"):
        parts.append(f"assignee {task['assignee'].get('name')}")
    if task.get("due_on"):
        parts.append(f"due {task['due_on']}")
    followers = [f.get("name") for f in task.get("followers") or []]
    if followers:
        parts.append(f"followers {', '.join(followers)}")
    for field in task.get("custom_fields") or []:
        if field.get("display_value"):
            parts.append(f"{field.get('name') or 'field'} {field['display_value']}")
    sections = [m["section"]["name"] for m in task.get("memberships") or [] if m.get("section")]
    if sections:
        parts.append(f"section {', '.join(sections)}")
    return ", ".join(parts)


def _plain(message: Any) -> str:
    texts = [b["text"]["text"] for b in message.blocks or [] if b.get("type") == "section" and b.get("text")]
    return " / ".join(texts) if texts else str(message.text)
