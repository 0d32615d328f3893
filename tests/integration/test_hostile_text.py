"""Text the bridge did not write never reaches Slack live (DESIGN §2, STYLE 18): a task name, a comment, a subtask and
a Slack message carrying Slack's special sequences go through every kind of post, and none of those sequences is
found unescaped in any string Slack parses (message text, mrkdwn, attachments, unfurls, App Home, modals)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from bridge.domain.model import TaskGid
from bridge.sandbox.world import World
from tests.fixtures_bridge import Running
from tests.support import ALWAYS_OPEN, eventually

HOSTILE = "<!channel> <!here> <!everyone> <@U0EVIL> <http://evil.example|your password> & co"
LIVE = ("<!channel>", "<!here>", "<!everyone>", "<@U0EVIL>", "<http://evil.example")
POSTING = ("chat.postMessage", "chat.update", "chat.postEphemeral", "chat.unfurl", "views.publish", "views.open")
# What Slack shows as typed, never parsing it: these keys hold no mrkdwn.
NOT_PARSED = {"initial_value", "value", "private_metadata", "action_id", "block_id", "callback_id", "metadata", "url"}

POLICY = (
    ALWAYS_OPEN
    + """
[reminders]
lead = "24h"

[capture]
mode = "reaction"
"""
)


@pytest.fixture
def policy(world: World) -> str:
    return POLICY


def parsed_strings(value: Any, key: str = "") -> Iterator[str]:
    """Every string of a Slack API call that Slack reads as mrkdwn or as a message's text."""
    if isinstance(value, dict):
        if value.get("type") == "plain_text":
            return
        for name, item in value.items():
            if name not in NOT_PARSED:
                yield from parsed_strings(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from parsed_strings(item, key)
    elif isinstance(value, str) and key:
        yield value


def _replied(world: World, ts: str) -> bool:
    return len(world.slack.thread(world.channel, ts)) >= 2


def live_sequences(running: Running) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for call in running.world.slack.calls:
        if call.method not in POSTING:
            continue
        for text in parsed_strings(call.params):
            found.extend((call.method, text) for live in LIVE if live in text)
    return found


async def test_hostile_text_goes_through_every_kind_of_post_escaped(running: Running) -> None:
    world = running.world
    ana, bo = running.user("ana"), running.user("bo")
    await ana.slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: world.asana.webhooks)
    asana_bo = world.asana.act(world.asana_people["bo"])
    today = datetime.now(UTC).date().isoformat()
    # A task made in Asana: its "new task" post, then a rename, a comment, a subtask, an assignee and a due date.
    gid = asana_bo.create_task(f"{HOSTILE} Reset", project=world.project)
    post = (await eventually(lambda: [m for m in world.slack.messages(world.channel) if "Reset" in m.text]))[0]
    tracked = await eventually(lambda: running.bridge.store.get_tracked_task(TaskGid(gid)))
    asana_bo.rename(gid, f"{HOSTILE} Renamed")
    asana_bo.comment(gid, HOSTILE)
    asana_bo.add_subtask(gid, HOSTILE)
    asana_bo.assign(gid, world.asana_people["bo"])
    asana_bo.set_due(gid, today)

    def thread() -> str:
        return "\n".join(m.text for m in world.slack.thread(world.channel, post.ts)[1:])

    await eventually(lambda: "💬" in thread() and "subtask" in thread() and "📅" in thread())
    await world.asana.deliveries_idle(timeout=10)
    await eventually(lambda: _snapshot_has_due(running, tracked.task_gid, today))

    # A nag about it, and a click on it. Ticks are asked until it is in the thread: the bridge's own scheduler may
    # tick first, and a tick that meets the task saved again by the relay (still busy with the burst above) leaves
    # it to the next tick, a second later.
    async def nagged() -> list[Any]:
        await running.bridge.nag_scheduler.nagger.tick()
        return [m for m in world.slack.thread(world.channel, post.ts) if "🔔" in m.text]

    nag = await eventually(nagged)
    await bo.click_button(nag[-1], "nag_snooze")
    # A Slack message captured by a reaction: its reply in the thread.
    said = await ana.post_message(world.channel, HOSTILE)
    assert said.ts is not None
    await bo.add_reaction(world.channel, said.ts, "ticket")
    await eventually(partial(_replied, world, said.ts))
    # The task's link pasted, and the App Home of its assignee.
    await bo.share_link(world.channel, tracked.permalink_url)
    await eventually(lambda: world.slack.unfurls())
    await bo.open_home()
    await eventually(lambda: world.slack.home("bo"))
    # Completed in Asana: its post is redrawn.
    asana_bo.complete(gid)
    await eventually(lambda: [c for c in world.slack.calls_to("chat.update") if "✅" in str(c.params)])
    await world.asana.deliveries_idle(timeout=10)
    await eventually(lambda: running.bridge.background.pending == 0)
    assert live_sequences(running) == []
    # The words are still there, escaped, so people read what was written.
    assert any("&lt;!channel&gt;" in text for call in world.slack.calls for text in parsed_strings(call.params))


async def _snapshot_has_due(running: Running, gid: TaskGid, day: str) -> bool:
    tracked = await running.bridge.store.get_tracked_task(gid)
    return tracked is not None and tracked.snapshot.get("due_on") == day
