"""Carrying out what the routing sweep decides: the assignment in Asana and in the thread, the ping that asks a
holder before their task moves on, and the triager told when nobody can take a task. Each step is safe to repeat:
posts go through the outbox, and a routing's record says what is left to do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bridge import wording
from bridge.domain.business_time import clock_for
from bridge.domain.model import Link, RoutedTask, TrackedTask
from bridge.domain.policy import Policy
from bridge.domain.relay import next_snapshot
from bridge.domain.routing import moves_on
from bridge.ports import AsanaPort, Clock, OutboxStore, RoutingStore, SlackTeams, TaskStore
from bridge.services.cards import Cards
from bridge.services.outbox import Outbox
from bridge.services.presence import Presence, Who


class RoutingSteps:
    def __init__(
        self,
        *,
        routings: RoutingStore,
        tasks: TaskStore,
        posts: OutboxStore,
        asana: AsanaPort,
        slack: SlackTeams,
        clock: Clock,
        policy: Policy,
        presence: Presence,
        cards: Cards,
    ) -> None:
        self._routings = routings
        self._tasks = tasks
        self._asana = asana
        self._clock = clock
        self._policy = policy
        self._presence = presence
        self._pool = presence.pool
        self._cards = cards
        self._outbox = Outbox(store=posts, slack=slack, clock=clock)

    async def holder(self, email: str, link: Link) -> str:
        """Who holds a routed task: @mentioned when Slack knows them, else by name."""
        return await self._pool.mention(email, link) or wording.escape(await self._pool.name(email, link))

    async def apply(self, tracked: TrackedTask, row: RoutedTask) -> None:
        """Carry out a recorded routing: the assignment in Asana and in the snapshot, the followers, the reason in
        the thread and as an Asana comment, then forget the announcement.

        Each step is safe to repeat when a failure cuts a tick short: the same assignee and followers are set
        again, the thread post goes through the outbox (once), and the comment comes after it (so only a crash
        between the comment and the record could say it twice)."""
        assert row.assignee_gid is not None and row.announcement is not None
        task = await self._asana.update_task(tracked.task_gid, {"assignee": row.assignee_gid})
        updated = replace(
            tracked,
            snapshot=next_snapshot(tracked.snapshot, task.raw, now=self._clock.now(), project_gid=tracked.project_gid),
            updated_at=self._clock.now(),
        )
        await self._tasks.save_tracked_task(updated)
        await self._cards.refresh(updated)  # the relay tells no change the bridge made
        said = row.announcement
        if said.get("followers"):
            await self._asana.add_followers(tracked.task_gid, list(said["followers"]))
        await self.tell(tracked, f"route:{tracked.task_gid}:{len(row.holders)}", str(said["thread"]))
        await self._asana.comment(tracked.task_gid, str(said["comment"]))
        await self._routings.save_routing(replace(row, announcement=None))

    async def nobody(
        self,
        link: Link,
        tracked: TrackedTask,
        row: RoutedTask | None,
        policy: Policy,
        skipped: Sequence[str],
        *,
        pool_empty: bool,
        now: datetime,
    ) -> int:
        """Nobody can take the task: the triager is told once (when at work), and routing looks again later."""
        if row is None:
            row = RoutedTask(task_gid=tracked.task_gid, project_gid=link.project_gid, assigned_at=now)
            if not await self._routings.claim_routing(row):
                return 0
        if row.told_nobody:
            return 0
        key = f"route:{tracked.task_gid}:nobody"
        if not await self._presence.may_mention(key, link, policy, now, Who(email=policy.triage.triager)):
            return 0  # told once the triager is at work, unless someone can take it by then
        triager = await self._pool.mention(policy.triage.triager, link)
        text = wording.routing_nobody(triager, name=tracked.name, skipped=skipped, pool_empty=pool_empty)
        await self.tell(tracked, f"route:{tracked.task_gid}:nobody:{len(row.holders)}", text)
        await self._routings.save_routing(replace(row, told_nobody=True))
        return 1

    async def ping(self, link: Link, row: RoutedTask, now: datetime) -> int:
        """Ask the holder, once they are at work, whether they keep the task before it moves on."""
        tracked = await self._tasks.get_tracked_task(row.task_gid)
        if tracked is None or row.assignee is None:
            return 0
        policy = self._policy.for_project(link.project_gid)
        key = f"route:{row.task_gid}:ping:{len(row.holders)}:{row.assigned_at:%Y%m%d%H%M%S}"
        if not await self._presence.may_mention(
            key, link, policy, now, Who(email=row.assignee, asana_user=row.assignee_gid)
        ):
            return 0  # pinged once they are at work (the task does not move on before they were asked)
        window = wording.when.span(policy.routing.reassign_after)
        holder = await self.holder(row.assignee, link)
        clock = clock_for(policy.business_hours)
        since = clock.local_date(row.assigned_at)
        # A ping held for the holder's hours may come after the window's end: it names when the task really moves.
        deadline = moves_on(
            clock, clock.span(policy.routing.reassign_after), assigned_at=row.assigned_at, pinged_at=now
        )
        text, post = wording.routing_ping(
            holder, name=tracked.name, since=since, moves_on=clock.to_local(deadline), task_gid=row.task_gid
        )
        ts = await self._outbox.reply(tracked, key=key, text=text, blocks=post)
        # After the post (once, through the outbox): a failure here makes the next tick post nothing new.
        await self._asana.comment(
            row.task_gid, wording.routing_ping_comment(await self._pool.name(row.assignee, link), window)
        )
        await self._routings.save_routing(replace(row, pinged_at=now, ping_ts=ts))
        return 1

    async def tell(self, tracked: TrackedTask, key: str, line: str) -> None:
        text, post = wording.relay_message([line])
        await self._outbox.reply(tracked, key=key, text=text, blocks=post)


def moves_on_at(policy: Policy, routed_at: datetime) -> datetime:
    """When a task routed at `routed_at` moves on if nobody acts, on the team's wall clock."""
    clock = clock_for(policy.business_hours)
    return clock.to_local(clock.add(routed_at, clock.span(policy.routing.reassign_after)))
