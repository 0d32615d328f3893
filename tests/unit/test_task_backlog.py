"""The /task backlog on fakes: a storm of acked commands is kept in one transaction, made a few at a time, each once,
and every person hears how theirs ended (tests/integration/test_task_command_storm.py runs it through the bridge)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from bridge.domain.commands import parse_task_command
from bridge.domain.model import ChannelId, PendingCommand
from bridge.domain.work import Task, TaskDraft
from bridge.entrypoints.background import Background
from bridge.entrypoints.task_backlog import AckedCommand, TaskBacklog
from bridge.services.capture_request import Captured
from tests.support import eventually
from tests.unit.fakes import CHANNEL, TEAM, FakeAsana, a_link
from tests.unit.test_capture_service import ANA, BO, NOBODY, World, world

TODAY = date(2026, 12, 7)


class Held:
    """Asana's answers to task creations held until let go, counting how many are open at once."""

    def __init__(self, asana: FakeAsana) -> None:
        self.let_go = asyncio.Event()
        self.open = self.most_open = 0
        create = asana.create_task

        async def held(draft: TaskDraft) -> Task:
            self.open += 1
            self.most_open = max(self.most_open, self.open)
            try:
                await self.let_go.wait()
                return await create(draft)
            finally:
                self.open -= 1

        asana.create_task = held  # type: ignore[method-assign]


class Person:
    """What one person who sent a /task hears."""

    def __init__(self) -> None:
        self.heard: list[str] = []
        self.landed: list[Captured] = []

    async def tell(self, text: str) -> None:
        self.heard.append(text)

    async def landed_as(self, result: Captured) -> None:
        self.landed.append(result)


def acked(text: str, person: Person, *, key: str | None) -> AckedCommand:
    parsed = parse_task_command(text, today=TODAY)
    return AckedCommand(TEAM, CHANNEL, ANA, parsed, key, person.tell, person.tell, person.landed_as)


def counting_keeps(w: World) -> list[list[str]]:
    """The keys of each keep_commands call on the store."""
    calls: list[list[str]] = []
    keep = w.store.keep_commands

    async def counted(commands: Sequence[PendingCommand], *, held_until: datetime, held_by: str | None = None) -> None:
        calls.append([c.request_key for c in commands])
        await keep(commands, held_until=held_until, held_by=held_by)

    w.store.keep_commands = counted  # type: ignore[method-assign]
    return calls


async def settled(background: Background) -> None:
    await background.drain(grace=5)
    assert background.pending == 0


async def test_a_storm_is_kept_in_one_call_and_made_a_few_at_a_time_each_once() -> None:
    w = world()
    asana = Held(w.asana)
    keeps = counting_keeps(w)
    background = Background()
    backlog = TaskBacklog(capture=w.capture, background=background, retry_delays=(), workers=3)
    people = [Person() for _ in range(20)]
    for n, person in enumerate(people):  # acked in one turn of the loop, as a burst of requests is
        backlog.accept(acked(f"Storm {n}", person, key=f"trigger-{n}"))
    assert backlog.waiting == 20
    await eventually(lambda: asana.open == 3)  # as many as the workers, all waiting on Asana
    assert keeps == [[f"trigger-{n}" for n in range(20)]]  # one transaction for the whole storm
    assert sorted(w.store.commands) == sorted(f"trigger-{n}" for n in range(20))
    asana.let_go.set()
    await settled(background)
    assert asana.most_open == 3
    assert sorted(d.name for d in w.drafts()) == sorted(f"Storm {n}" for n in range(20))
    assert all(len(p.landed) == 1 and p.heard == [] for p in people)
    assert [p.landed[0].task.name for p in people] == [f"Storm {n}" for n in range(20)]
    assert w.store.commands == {}  # each forgotten once it ended
    assert backlog.waiting == 0


async def test_channels_take_turns_so_a_storm_in_one_does_not_hold_up_another() -> None:
    w = world()
    other = ChannelId("C2")
    w.store.links[(TEAM, other)] = a_link(channel_id=other)
    asana = Held(w.asana)
    background = Background()
    backlog = TaskBacklog(capture=w.capture, background=background, retry_delays=(), workers=1)
    person = Person()
    for n in range(4):
        backlog.accept(acked(f"Storm {n}", person, key=f"storm-{n}"))
    backlog.accept(replace(acked("Elsewhere", person, key="elsewhere"), channel=other))
    await eventually(lambda: asana.open == 1)
    asana.let_go.set()
    await settled(background)
    # The one worker was busy with the storm's first when the other channel's command came: it is made next.
    assert [d.name for d in w.drafts()] == ["Storm 0", "Elsewhere", "Storm 1", "Storm 2", "Storm 3"]
    assert len(person.landed) == 5 and person.heard == []


async def test_commands_acked_while_a_batch_is_kept_are_kept_next() -> None:
    w = world()
    keeps = counting_keeps(w)
    background = Background()
    backlog = TaskBacklog(capture=w.capture, background=background, retry_delays=())
    first, later = Person(), Person()
    backlog.accept(acked("First", first, key="k1"))
    await asyncio.sleep(0)  # the keeper has taken the first batch
    backlog.accept(acked("Later", later, key="k2"))
    await settled(background)
    assert keeps == [["k1"], ["k2"]]
    assert [p.landed[0].task.name for p in (first, later)] == ["First", "Later"]


async def test_commands_are_read_with_one_lookup_of_each_name_and_made_without_names_if_reading_breaks() -> None:
    w = world()
    background = Background()
    backlog = TaskBacklog(capture=w.capture, background=background, retry_delays=())
    people = [Person() for _ in range(6)]
    for n, person in enumerate(people):  # three people, each twice, one mentioning Bo in the title
        parsed = parse_task_command(f"Ask <@{BO}> {n}" if n == 0 else f"Task {n}", today=TODAY)
        user = (ANA, BO, NOBODY)[n % 3]
        backlog.accept(AckedCommand(TEAM, CHANNEL, user, parsed, f"k{n}", person.tell, person.tell, person.landed_as))
    await settled(background)
    assert len(w.slack.teams("user_name")) == 3  # Ana, Bo (an author and mentioned) and Cy: once each
    assert [p.landed[0].task.name for p in people] == ["Ask @Bo 0", *(f"Task {n}" for n in range(1, 6))]
    made = {d.name: d.html_notes or "" for d in w.drafts()}
    assert "Created in Slack by <strong>Cy</strong>" in made["Task 2"]

    # A bug while reading names: the commands are still made, under the ids Slack sent.
    async def broken(*args: Any, **kwargs: Any) -> dict[str, str]:
        raise RuntimeError("a bug while reading names")

    w.capture.reader._people.names = broken  # type: ignore[method-assign]
    late = Person()
    backlog.accept(acked(f"Ask <@{BO}> later", late, key="k-late"))
    await settled(background)
    assert [c.task.name for c in late.landed] == [f"Ask @{BO} later"] and late.heard == []
    assert f"Created in Slack by a Slack user ({ANA})" in next(
        d.html_notes or "" for d in w.drafts() if d.name == f"Ask @{BO} later"
    )
    assert w.store.commands == {}


async def test_a_command_without_a_trigger_id_is_made_though_not_kept() -> None:
    w = world()
    keeps = counting_keeps(w)
    background = Background()
    backlog = TaskBacklog(capture=w.capture, background=background, retry_delays=())
    person = Person()
    backlog.accept(acked("No trigger", person, key=None))
    await settled(background)
    assert keeps == [] and [c.task.name for c in person.landed] == ["No trigger"]
