"""A /task acked but cut off by a crash (its retries during an Asana outage last minutes) is finished later, once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bridge.adapters.store import SqlStore
from bridge.domain.model import ChannelId, Holder, PendingCommand, SlackUserId, TeamId
from bridge.entrypoints.workers import CaptureSweeper
from tests.fixtures_bridge import Running
from tests.fixtures_db import on_both_sqlite_paths
from tests.support import FakeClock, eventually

pytest_plugins = ["tests.fixtures_db"]

NOW = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


def command(key: str, *, team: str = "T1", channel: str = "C1", at: datetime = NOW, **changes: Any) -> PendingCommand:
    values: dict[str, Any] = {
        "request_key": key,
        "team_id": TeamId(team),
        "channel_id": ChannelId(channel),
        "requester": SlackUserId("U1"),
        "title": f"Task {key}",
        "notes": "Created from Slack by <@U1>",
        "assignee": None,
        "due": None,
        "priority": None,
        "created_at": at,
    }
    return PendingCommand(**(values | changes))


async def test_a_kept_command_is_taken_only_once_nobody_holds_it(store: SqlStore) -> None:
    kept = command("a", assignee=SlackUserId("U2"), due=date(2026, 3, 9), priority="P1", title="Ünïcode ✨")
    await store.keep_commands([kept], held_until=NOW + timedelta(minutes=30))
    await store.keep_commands([command("b", at=NOW + timedelta(seconds=1))], held_until=NOW - timedelta(seconds=1))
    await store.keep_commands([kept], held_until=NOW)  # kept once
    taken = await store.take_stale_commands(now=NOW, hold_until=NOW + timedelta(minutes=20), limit=10)
    assert [c.request_key for c in taken] == ["b"]  # "a" is still held by the process that acked it
    assert await store.take_stale_commands(now=NOW, hold_until=NOW + timedelta(minutes=20), limit=10) == []
    await store.forget_command("b")  # finished by whoever took it
    later = NOW + timedelta(minutes=31)
    taken = await store.take_stale_commands(now=later, hold_until=later + timedelta(minutes=20), limit=10)
    assert taken == [kept] and taken[0].due == date(2026, 3, 9) and taken[0].created_at.tzinfo is not None
    await store.forget_command("a")
    far = NOW + timedelta(days=1)
    assert await store.take_stale_commands(now=far, hold_until=far, limit=10) == []


async def test_a_command_held_by_a_replica_that_stopped_heartbeating_is_taken_at_once(store: SqlStore) -> None:
    alive_within = timedelta(seconds=6)
    one, two = Holder("one", alive_within), Holder("two", alive_within)
    await store.heartbeat("one", now=NOW, alive_within=alive_within)
    await store.keep_commands([command("a")], held_until=NOW + timedelta(minutes=30), held_by="one")
    soon = NOW + timedelta(seconds=5)
    await store.heartbeat("two", now=soon, alive_within=alive_within)
    assert await store.take_stale_commands(now=soon, hold_until=soon, limit=10, holder=two) == []  # "one" lives
    assert await store.take_stale_commands(now=soon, hold_until=soon, limit=10, holder=one) == []  # its own
    later = NOW + timedelta(seconds=7)  # "one" has been silent for 7 s
    await store.heartbeat("two", now=later, alive_within=alive_within)
    taken = await store.take_stale_commands(now=later, hold_until=later + timedelta(minutes=20), limit=10, holder=two)
    assert [c.request_key for c in taken] == ["a"]
    # Now "two" holds it: a third replica waits for "two"'s hold or silence.
    three = Holder("three", alive_within)
    await store.heartbeat("three", now=later, alive_within=alive_within)
    assert await store.take_stale_commands(now=later, hold_until=later, limit=10, holder=three) == []


async def test_sweepers_of_two_replicas_never_take_the_same_command(database_url: str) -> None:
    stores = [await SqlStore.connect(database_url) for _ in range(2)]
    try:
        for n in range(30):
            await stores[0].keep_commands([command(f"k{n:02d}")], held_until=NOW)
        later = NOW + timedelta(minutes=1)
        taken: list[PendingCommand] = []
        while True:
            rounds = await asyncio.gather(
                *(s.take_stale_commands(now=later, hold_until=later + timedelta(hours=1), limit=4) for s in stores)
            )
            if not any(rounds):
                break
            taken += [c for r in rounds for c in r]
        assert sorted(c.request_key for c in taken) == [f"k{n:02d}" for n in range(30)]
    finally:
        for s in stores:
            await s.close()


async def test_commands_arriving_together_are_kept_in_one_call_each_once(store: SqlStore) -> None:
    first = command("a", title="first")
    await store.keep_commands([first], held_until=NOW)
    # A storm's batch: one already kept, one twice in the batch (neither replaced), unicode and every field set.
    batch = [
        command("a", title="again"),
        command("b", assignee=SlackUserId("U2"), due=date(2026, 3, 9), priority="P0", title='Don\'t "quote" ✨'),
        command("c"),
        command("b", title="a second b"),
    ]
    await store.keep_commands(batch, held_until=NOW, held_by=None)
    await store.keep_commands([], held_until=NOW)
    later = NOW + timedelta(minutes=1)
    taken = await store.take_stale_commands(now=later, hold_until=later, limit=10)
    assert taken == [first, batch[1], batch[2]]
    # Commands ending together are forgotten together (one group commit), each exactly.
    await asyncio.gather(*(store.forget_command(key) for key in ("a", "c", "missing")))
    much_later = NOW + timedelta(hours=1)
    left = await store.take_stale_commands(now=much_later, hold_until=much_later, limit=10)
    assert [c.request_key for c in left] == ["b"]


async def test_sqlite_writer_keeps_commands_as_sqlalchemy_would(tmp_path: Path) -> None:
    # On a SQLite file kept commands are written with hand-made SQL: the rows must be those SQLAlchemy makes (the
    # PostgreSQL path), byte for byte, or the sweeper would read something else.
    elsewhere = datetime(2026, 3, 2, 17, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    kept = [
        command("a", at=elsewhere, assignee=SlackUserId("U2"), due=date(2026, 3, 9), priority="P1", title="é\u2028😀"),
        command("b", notes='<body>“smart” &amp; <a href="https://x">link</a></body>'),
    ]

    async def work(sqlite_store: SqlStore) -> list[Any]:
        await sqlite_store.keep_commands(kept, held_until=elsewhere, held_by="replica-1")
        await sqlite_store.forget_command("b")
        async with sqlite_store.engine.connect() as conn:
            return list((await conn.exec_driver_sql("SELECT * FROM pending_commands ORDER BY request_key")).all())

    tables = await on_both_sqlite_paths(tmp_path, work)
    assert tables[0] == tables[1] and len(tables[0]) == 1


def _sweeper(running: Running, *, later: timedelta = timedelta(0)) -> CaptureSweeper:
    """The capture sweeper of `running`'s bridge, as it sweeps `later` from now."""
    bridge = running.bridge
    clock = FakeClock(bridge.clock.now() + later)
    return CaptureSweeper(store=bridge.store, capture=bridge.capture, clock=clock, after=timedelta(minutes=20))


async def _cut_off(running: Running, key: str, title: str) -> None:
    """As a process that acked `/task <title>` and died: the command kept, held until an hour ago."""
    world = running.world
    an_hour_ago = running.bridge.clock.now() - timedelta(hours=1)
    cut = command(
        key,
        team=world.slack.team.team_id,
        channel=world.channel,
        at=an_hour_ago,
        title=title,
        requester=SlackUserId(running.user("bo").id),
    )
    await running.bridge.store.keep_commands([cut], held_until=an_hour_ago)


def _named(running: Running, title: str) -> list[Any]:
    return [t for t in running.asana_tasks() if t.parent is None and t.name == title]


async def test_commands_cut_off_by_a_crash_are_finished_once(running: Running) -> None:
    world = running.world
    await running.user("ana").slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: world.asana.webhooks)
    # 1) cut off before Asana was asked; 2) after Asana made the task, before its thread was posted;
    # 3) after everything but forgetting it.
    await _cut_off(running, "trigger.lost", "Lost in a crash")
    await _cut_off(running, "trigger.made", "Made before the crash")
    marker = f"[slack:{world.slack.team.team_id}/{world.channel}/trigger.made]"
    made = world.asana.act(world.bridge_user).create_task(
        "Made before the crash", project=world.project, notes=f"Created from Slack\n\n{marker}"
    )
    await running.user("bo").slash_command("/task", "Finished before the crash", world.channel)
    done = (await eventually(lambda: _named(running, "Finished before the crash")))[0]
    await eventually(lambda: running.bridge.store.get_tracked_task(done.gid))
    # Its command is forgotten once the person is told (after the thread is saved): cut it off only after that.
    await eventually(lambda: running.bridge.background.pending == 0)
    trigger = done.notes.rsplit("/", 1)[1].rstrip("]")  # the marker's key: the command's trigger_id
    await _cut_off(running, trigger, "Finished before the crash")
    posts_before = len(world.slack.messages(world.channel))

    assert await _sweeper(running).sweep() == 3
    assert await _sweeper(running).sweep() == 0  # nothing left, nothing held

    assert len(_named(running, "Lost in a crash")) == 1
    assert [t.gid for t in _named(running, "Made before the crash")] == [made]
    assert len(_named(running, "Finished before the crash")) == 1
    posts = [m for m in world.slack.messages(world.channel)[posts_before:] if m.bot_id]
    # A thread each for the two unfinished ones; none again for the one finished before the crash.
    assert len(posts) == 2 and not any("Finished before the crash" in m.text for m in posts)
    landed = [e.text for e in world.slack.ephemerals("bo") if "landed" in e.text]
    assert len(landed) == 2 and any("Lost in a crash" in t for t in landed)


async def test_a_command_left_while_asana_is_down_waits_for_the_next_sweep(running: Running) -> None:
    world = running.world
    await running.user("ana").slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: world.asana.webhooks)
    await _cut_off(running, "trigger.down", "Asana still down")
    world.asana.faults.add(path_pattern=r"^/(tasks|projects)", status=503, times=None)  # Asana down
    assert await _sweeper(running).sweep() == 1
    world.asana.faults.clear()
    assert not _named(running, "Asana still down")
    assert await _sweeper(running).sweep() == 0  # held by the first sweep for its 20 minutes
    assert await _sweeper(running, later=timedelta(minutes=21)).sweep() == 1
    assert len(_named(running, "Asana still down")) == 1


async def test_a_command_leaves_nothing_kept_once_captured(running: Running) -> None:
    world = running.world
    await running.user("ana").slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: world.asana.webhooks)
    world.asana.faults.add(method="POST", path_pattern=r"^/tasks$", status=503, times=3)  # about a second
    await running.user("ana").slash_command("/task", "Kept while it waits", world.channel)
    await eventually(lambda: [e for e in world.slack.ephemerals("ana") if "keep trying" in e.text])
    far = running.bridge.clock.now() + timedelta(days=2)
    # While it waits out the outage, it is kept (a crash now would leave it to the sweeper)...
    kept = await running.bridge.store.take_stale_commands(now=far, hold_until=far, limit=10)
    assert [c.title for c in kept] == ["Kept while it waits"]
    await eventually(lambda: _named(running, "Kept while it waits"))

    async def forgotten() -> bool:
        return not await running.bridge.store.take_stale_commands(now=far, hold_until=far, limit=10)

    await eventually(forgotten)  # ...and once it landed, forgotten
