"""The whole bridge in this test's event loop, on a real port, against both emulators and a SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bridge.bootstrap import Bridge
from bridge.domain.model import TaskGid, TrackedTask
from bridge.sandbox.asana.model import Task
from bridge.sandbox.harness import LocalBridge, serve_locally
from bridge.sandbox.oas import OpenApiSpec
from bridge.sandbox.slack.models import Message
from bridge.sandbox.slack_user import SimulatedSlack, SlackUser
from bridge.sandbox.world import World, start_world
from tests.support import eventually


@dataclass
class Running:
    world: World
    local: LocalBridge

    @property
    def bridge(self) -> Bridge:
        return self.local.bridge

    @property
    def url(self) -> str:
        return self.local.url

    @property
    def slack(self) -> SimulatedSlack:
        return self.local.slack

    def user(self, name: str) -> SlackUser:
        return self.local.slack.user(name)

    def asana_tasks(self) -> list[Task]:
        return [t for t in self.world.asana.store.tasks.values() if not t.deleted]

    def bot_replies(self, ts: str) -> list[Message]:
        """The bridge's messages in the thread of the message `ts` in the world's channel."""
        return [m for m in self.world.slack.thread(self.world.channel, ts) if m.bot_id]

    def posted_text(self, ts: str) -> str:
        """The text of the message `ts` in the world's channel as it reads now (the message must exist)."""
        message = self.slack.workspace.channel(self.world.channel).find(ts)
        assert message is not None, f"no message {ts} in {self.world.channel}"
        return message.text

    def asana_comments(self, task: str) -> list[str]:
        """The comments on a task in Asana, oldest first."""
        store = self.world.asana.store
        return [s.text for s in store.stories.values() if s.task == task and s.kind == "comment"]

    def asana_updates(self, task_gid: str) -> list[Any]:
        """The PUTs that changed a task, leaving out the one that writes a /task's link back to Slack (its post's
        permalink) into its description once that post exists."""
        puts = self.world.asana.calls("PUT", rf"^/tasks/{task_gid}$")
        return [r for r in puts if set((r.body or {}).get("data") or {}) != {"html_notes"}]

    def asana_mark(self) -> int:
        """A place in the emulated Asana's request log, for asana_calls_since."""
        return len(self.world.asana.requests)

    async def asana_calls_since(self, mark: int) -> list[tuple[str, str]]:
        """The Asana calls made after `mark`, once the background work is done (polling left out)."""
        await eventually(lambda: self.bridge.background.pending == 0)
        return [
            (r.method, r.path)
            for r in self.world.asana.requests[mark:]
            if not r.path.startswith(("/events", "/webhooks"))
        ]

    async def link(self, mode: str | None = None) -> None:
        """Ana links the world's channel to its project (and sets its capture mode), as a person would."""
        world = self.world
        ana = self.user("ana")
        await ana.slash_command("/asana", f"link {world.project}", world.channel)
        await eventually(lambda: [m for m in world.slack.messages(world.channel) if "Linked" in m.text])
        if mode:
            ack = await ana.slash_command("/asana", f"capture {mode}", world.channel)
            assert ack.status == 200 and "task" in ack.body

    async def slash_task(self, command: str, *, by: str, title: str) -> TrackedTask:
        """Link the channel (once), send `/task <command>` as `by`, and wait until the bridge tracks the task named
        `title` and Asana has delivered what it did."""
        world = self.world
        if not world.asana.webhooks:
            await self.user("ana").slash_command("/asana", f"link {world.project}", world.channel)
            await eventually(lambda: world.asana.webhooks)
        await self.user(by).slash_command("/task", command, world.channel)
        task = (await eventually(lambda: [t for t in self.asana_tasks() if t.name == title]))[0]

        async def followed() -> TrackedTask | None:
            return await self.bridge.store.get_tracked_task(TaskGid(task.gid))

        tracked: TrackedTask = await eventually(followed)
        await world.asana.deliveries_idle(timeout=10)
        return tracked


@pytest_asyncio.fixture
async def world() -> AsyncIterator[World]:
    started = await start_world()
    try:
        yield started
    finally:
        await started.stop()


@pytest.fixture
def policy(world: World) -> str | None:
    """The bridge.toml of the `running` bridge; tests override this fixture (None: no policy file)."""
    return None


@pytest.fixture
def bridge_env(world: World) -> dict[str, str]:
    """Environment of the `running` bridge beyond the World's; tests override this fixture."""
    return {}


@pytest.fixture
def asana_oauth(world: World) -> bool:
    """Whether people can connect their own Asana account to the `running` bridge; tests override this fixture."""
    return False


# Outages are waited out in tenths of seconds in tests, not minutes.
TEST_RETRY_DELAYS = (0.1, 0.3, 0.6)


@pytest.fixture
def retry_delays(world: World) -> tuple[float, ...]:
    """How the `running` bridge's captures wait out an Asana outage; tests override this fixture."""
    return TEST_RETRY_DELAYS


@pytest_asyncio.fixture
async def running(
    world: World,
    tmp_path: Path,
    oas_spec: OpenApiSpec,
    policy: str | None,
    bridge_env: dict[str, str],
    retry_delays: tuple[float, ...],
    asana_oauth: bool,
) -> AsyncIterator[Running]:
    local = await serve_locally(
        world, tmp_path, policy=policy, retry_delays=retry_delays, env=bridge_env, asana_oauth=asana_oauth
    )
    try:
        yield Running(world=world, local=local)
    finally:
        await local.close()
    # Every flow test doubles as a check that the bridge speaks Asana's API as the OpenAPI spec describes it.
    assert oas_spec.validate_exchanges(world.asana.requests, strict=True) == []
