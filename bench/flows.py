"""What a person does in Slack before a bench can measure anything: link the channel, open tasks with /task."""

from __future__ import annotations

import asyncio

from bench.waiting import wait_until
from bridge.domain.model import ProjectGid, TaskGid, TrackedTask, WebhookStatus
from bridge.ports import Store
from bridge.sandbox.slack_user import SlackUser
from bridge.sandbox.world import World


async def link_channel(world: World, user: SlackUser, store: Store, *, timeout: float = 20.0) -> None:
    """`/asana link <project>` in the World's channel; returns once the project's webhook is active."""
    ack = await user.slash_command("/asana", f"link {world.project}", world.channel)
    if ack.status != 200:
        raise RuntimeError(f"/asana link answered {ack.status}: {ack.body}")

    async def active() -> bool:
        hooks = await store.webhooks_for_project(ProjectGid(world.project))
        return any(h.status is WebhookStatus.ACTIVE for h in hooks)

    await wait_until(active, timeout=timeout, what="an active webhook")


async def open_tasks(
    world: World,
    user: SlackUser,
    store: Store,
    titles: list[str],
    *,
    concurrency: int = 10,
    timeout: float = 60.0,
    channel: str | None = None,
) -> list[TrackedTask]:
    """One `/task <title>` per title (in the World's channel unless `channel`); returns the tracked tasks (with
    their threads) in the order of `titles`."""
    gate = asyncio.Semaphore(concurrency)

    async def command(title: str) -> None:
        async with gate:
            ack = await user.slash_command("/task", title, channel or world.channel)
        if ack.status != 200:
            raise RuntimeError(f"/task answered {ack.status}: {ack.body}")

    await asyncio.gather(*(command(title) for title in titles))

    def made() -> dict[str, str] | None:
        by_name = {t.name: t.gid for t in world.asana.store.tasks.values() if not t.deleted and not t.parent}
        return by_name if all(title in by_name for title in titles) else None

    by_name = await wait_until(made, timeout=timeout, what="tasks made in Asana")

    async def tracked() -> list[TrackedTask] | None:
        found = [await store.get_tracked_task(TaskGid(by_name[title])) for title in titles]
        return [t for t in found if t is not None] if all(found) else None

    return await wait_until(tracked, timeout=timeout, interval=0.05, what="tracked tasks")


async def settled(store: Store) -> bool:
    """Nothing waits in the inbox: every delivery unpacked, every event relayed or set aside."""
    counts = await store.inbox_counts()
    return counts.get("pending", 0) == counts.get("landed", 0) == 0
