"""A storm of /task through the running bridge: every command is acked at once with what was understood, makes
exactly one task with its words kept, and its person is told; none is left kept for the sweeper afterwards."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import func, select

from bridge.adapters.store.tables import pending_commands
from tests.fixtures_bridge import Running
from tests.support import eventually

PEOPLE = ("ana", "bo", "cy")
COMMANDS = 15  # their cards are posted at Slack's pace, about one a second in a channel


async def test_a_storm_of_task_commands_makes_each_task_once_and_tells_each_person(running: Running) -> None:
    world = running.world
    await running.user("ana").slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: world.asana.webhooks)
    titles = {f"Don't break Bob's \"build\" {n:02d}": PEOPLE[n % len(PEOPLE)] for n in range(COMMANDS)}

    answers = await asyncio.gather(
        *(running.user(person).slash_command("/task", title, world.channel) for title, person in titles.items())
    )
    assert [a.status for a in answers] == [200] * COMMANDS
    # The ack says what was understood, the person's words whole.
    assert [a.body.splitlines()[0] for a in answers] == [f"Creating in Asana: “{title}”" for title in titles]

    def made() -> Counter[str] | None:
        names = Counter(t.name for t in running.asana_tasks() if t.parent is None and t.name in titles)
        return names if set(names) == set(titles) else None

    assert set((await eventually(made, timeout=45)).values()) == {1}

    def confirmed() -> bool:
        for person in PEOPLE:
            shown = [e.text for e in world.slack.ephemerals(world.slack_people[person])]
            mine = [title for title, who in titles.items() if who == person]
            if not all(any(t.startswith("Created in Asana") and title in t for t in shown) for title in mine):
                return False
        return True

    await eventually(confirmed, timeout=45)

    async def none_kept() -> bool:
        async with running.bridge.store.engine.connect() as conn:
            return (await conn.execute(select(func.count()).select_from(pending_commands))).scalar_one() == 0

    await eventually(none_kept, timeout=10)
    assert Counter(t.name for t in running.asana_tasks() if t.parent is None and t.name in titles) == Counter(
        list(titles)
    )


async def _another_linked_channel(running: Running) -> str:
    """#elsewhere, linked to the project as the test's channel is (both are, when this returns)."""
    world = running.world
    people = [*world.slack_people.values(), world.slack.team.bot.user_id]
    other = world.slack.add_channel("elsewhere", members=people)
    for channel in (world.channel, other):
        await running.user("ana").slash_command("/asana", f"link {world.project}", channel)
    await eventually(
        lambda: all(any(m.text.startswith("Linked") for m in world.slack.messages(c)) for c in (world.channel, other))
    )
    return other


async def test_a_task_in_another_channel_is_not_held_up_by_a_storm_in_one(running: Running) -> None:
    """A storm's cards go at Slack's pace, about one a second in its channel; a /task elsewhere is made meanwhile,
    not after the storm's queue."""
    world = running.world
    other = await _another_linked_channel(running)
    storm = [f"Storm {n:02d}" for n in range(COMMANDS)]
    answers = await asyncio.gather(
        *(running.user("bo").slash_command("/task", title, world.channel) for title in storm),
    )
    assert [a.status for a in answers] == [200] * COMMANDS
    answer = await running.user("cy").slash_command("/task", "Elsewhere, at once", other)
    assert answer.status == 200

    def confirmed(person: str, title: str) -> bool:
        shown = world.slack.ephemerals(world.slack_people[person])
        return any(e.text.startswith("Created in Asana") and title in e.text for e in shown)

    await eventually(lambda: confirmed("cy", "Elsewhere, at once"), timeout=45)
    told = [title for title in storm if confirmed("bo", title)]
    # Before the channels took turns, it waited behind the whole storm: 8 or more of its cards were posted first.
    assert len(told) < COMMANDS // 2, told
    await eventually(lambda: all(confirmed("bo", title) for title in storm), timeout=45)


async def test_a_task_elsewhere_is_not_held_up_by_a_storm_of_captured_messages(running: Running) -> None:
    """Twenty people post in an intake channel at once (an outage): each message becomes a task whose card goes
    into its thread at Slack's pace. A capture's turn is for its Asana part only, so a /task in another channel is
    made and confirmed meanwhile."""
    world = running.world
    other = await _another_linked_channel(running)
    await running.user("ana").slash_command("/asana", "capture all", world.channel)
    storm = [f"Is the site down? ({n:02d})" for n in range(20)]
    posted = await asyncio.gather(*(running.user("bo").post_message(world.channel, text) for text in storm))
    # Their tasks are being made (the storm holds every turn at Asana's door), then comes the /task elsewhere.
    await eventually(lambda: len([t for t in running.asana_tasks() if t.name in storm]) >= 8, timeout=45)
    answer = await running.user("cy").slash_command("/task", "Elsewhere, at once", other)
    assert answer.status == 200

    def cards() -> int:
        return sum(1 for m in posted if any(r.bot_id for r in world.slack.thread(world.channel, m.ts or "")))

    def confirmed() -> bool:
        shown = world.slack.ephemerals(world.slack_people["cy"])
        return any(e.text.startswith("Created in Asana") and "Elsewhere, at once" in e.text for e in shown)

    await eventually(confirmed, timeout=45)
    # Before, it waited for a turn held by captures waiting on their cards: at least 12 cards came first.
    assert cards() < 10, cards()
    await eventually(lambda: cards() == len(storm), timeout=60)
