"""The demo's scene for issue #20: Bo connects his Asana account and acts as himself; Cy, not connected, is acted
for by the bridge on her behalf and offered once to connect."""

from __future__ import annotations

from typing import Any

import aiohttp

from bridge.sandbox.demo_kit import Transcript, task_named, tracked_task, until, until_async
from bridge.sandbox.harness import LocalBridge
from bridge.sandbox.world import World


async def identity_scene(world: World, local: LocalBridge, out: Transcript) -> None:
    channel = world.channel
    people = {gid: name for name, gid in world.asana_people.items()} | {world.bridge_user: "the bridge"}
    out.step("Bo connects his own Asana account; what he does from Slack is then his in Asana")
    bo = local.slack.user("bo")
    out.line("slack", "bo: /asana connect")
    await bo.slash_command("/asana", "connect", channel)
    prompt = await until(lambda: [e for e in world.slack.ephemerals("bo") if e.blocks and "Connect your" in e.text])
    url = str(prompt[-1].blocks[0]["accessory"]["url"])  # type: ignore[index]
    out.line("slack", f"only bo sees: {prompt[-1].text} [Connect Asana]")
    out.line("asana", f"bo's browser: {url.split('?')[0]} (PKCE, state) → bo clicks Allow")
    back = await world.asana.consent(url, world.asana_people["bo"])
    async with aiohttp.ClientSession() as http, http.get(back) as page:
        text = await page.text()
    out.line("bridge", f"GET /asana/oauth_redirect → {page.status}: {_body(text)}")

    await bo.slash_command("/task", "Document the retry schedule", channel)
    out.line("slack", "bo: /task Document the retry schedule")
    mine = await until(lambda: task_named(world, "Document the retry schedule"))
    out.line("asana", f"task {mine.gid} created by {people.get(mine.created_by)} (with bo's own token)")
    # Bo replies once the bridge follows the thread (its card is posted a moment before the task is tracked).
    tracked = await until_async(lambda: tracked_task(local, mine.gid))
    await bo.post_message(channel, "Starting on this today.", thread_ts=tracked.thread_ts)
    comment = await until(lambda: _comment(world, mine.gid, "Starting on this today."))
    out.line("asana", f"bo's thread reply → comment by {people.get(comment.created_by)}: {comment.text}")

    out.step("Cy has not connected: the bridge acts for her, says so in Asana, and offers once to connect")
    cy = local.slack.user("cy")
    for title in ("Check the SQL examples", "Check the SQL errata"):
        await cy.slash_command("/task", title, channel)
        out.line("slack", f"cy: /task {title}")
        theirs = await until(lambda title=title: task_named(world, title))  # type: ignore[misc]
        said = next((line for line in theirs.notes.splitlines() if "on behalf of" in line), "")
        out.line("asana", f"task {theirs.gid} created by {people.get(theirs.created_by)}; notes: “{said}”")
    offers = [m.text for m in world.slack.messages(world.slack_people["cy"]) if "on your behalf" in m.text]
    out.line("slack", f"DMs to cy offering to connect: {len(offers)} (once, not on every action)")
    if offers:
        out.line("slack", f"DM to cy: {offers[0]}")


def _comment(world: World, task_gid: str, text: str) -> Any:
    return next((s for s in world.asana.store.stories.values() if s.task == task_gid and s.text == text), None)


def _body(page: str) -> str:
    return page.split("<p>", 1)[-1].split("</p>", 1)[0].replace("&#x27;", "'")
