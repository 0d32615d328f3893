"""Routing: give unassigned tasks to the pool by skill and load, ping before moving them on, and move them on.

It runs in the scheduler's tick on the leading replica, over the open tasks the scheduler already keeps in memory
(so loads come from the bridge's own snapshots, not from Asana). A task is routed once it is unassigned and, when
its link triages first, has a priority. The database claims each first routing, so a task is routed once.

Cost per routing decision, warm: one task update (the assignee), one comment, one follower call when a keyword
rule adds followers; no reads. Cold: each pool member's Asana user once per process and their out-of-office
entries once per pool.OOO_CACHE_SECONDS. A ping costs one comment; a click on its buttons one comment more.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from bridge import wording
from bridge.domain.business_time import clock_for
from bridge.domain.model import (
    AsanaUserGid,
    Link,
    RoutedTask,
)
from bridge.domain.nags import TaskView
from bridge.domain.policy import Policy
from bridge.domain.routing import Stage, choose, short_sla, stage
from bridge.errors import AsanaError, SlackError
from bridge.ports import AsanaPort, Clock, LinkReads, OutboxStore, RoutingStore, SlackTeams, TaskStore
from bridge.services.cards import Cards
from bridge.services.outbox import PostInFlight
from bridge.services.pool import Pool
from bridge.services.presence import Presence, Who
from bridge.services.routing_steps import RoutingSteps, moves_on_at
from bridge.services.slices import Slicer

log = logging.getLogger(__name__)


Home = tuple[str, str]  # (project gid, channel id) of a link


class Router:
    def __init__(
        self,
        *,
        routings: RoutingStore,
        links: LinkReads,
        tasks: TaskStore,
        posts: OutboxStore,
        asana: AsanaPort,
        slack: SlackTeams,
        clock: Clock,
        policy: Policy,
        presence: Presence | None = None,
        cards: Cards,
    ) -> None:
        self._routings = routings
        self._links = links
        self._tasks = tasks
        self._clock = clock
        self._policy = policy
        self._presence = presence or Presence(slack=slack, pool=Pool(store=tasks, asana=asana, slack=slack))
        self._pool = self._presence.pool
        self._steps = RoutingSteps(
            routings=routings,
            tasks=tasks,
            posts=posts,
            asana=asana,
            slack=slack,
            clock=clock,
            policy=policy,
            presence=self._presence,
            cards=cards,
        )

    # ---- the tick ------------------------------------------------------------------------------------------

    async def routes(self) -> bool:
        """Whether any link has a routing pool (else a sweep has nothing to do)."""
        links = await self._links.list_links()
        return any(self._policy.for_project(link.project_gid).routing.pool for link in links)

    async def sweep(self, views: Mapping[Home, Sequence[TaskView]], now: datetime) -> int:
        """Route, ping and reassign what is due; returns how many routing decisions were carried out."""
        links: dict[Home, Link] = {(link.project_gid, link.channel_id): link for link in await self._links.list_links()}
        routed = {row.task_gid: row for row in await self._routings.open_routings()}
        loads: Counter[AsanaUserGid | None] = Counter(
            v.assignee for tasks in views.values() for v in tasks if v.assignee
        )
        open_gids = {view.gid for tasks in views.values() for view in tasks}
        for row in routed.values():
            if row.task_gid not in open_gids:
                await self._routings.save_routing(replace(row, closed=True))  # completed, deleted or unlinked
        done = 0
        slicer = Slicer()  # a sweep over many tasks gives the loop a turn every few milliseconds
        for home, tasks in views.items():
            link = links.get(home)
            if link is None or not self._policy.for_project(link.project_gid).routing.pool:
                continue
            for view in tasks:
                await slicer.turn()
                try:
                    done += await self._judge(link, view, routed.get(view.gid), loads, now)
                except (AsanaError, SlackError, PostInFlight) as exc:  # judged again next tick
                    log.warning("routing task %s: %s", view.gid, exc)
        return done

    async def _judge(
        self, link: Link, view: TaskView, row: RoutedTask | None, loads: Counter[AsanaUserGid | None], now: datetime
    ) -> int:
        policy = self._policy.for_project(link.project_gid)
        if row is None:
            if view.assignee is not None or (link.triage_section_gid and not view.priority):
                return 0  # a person assigned it, or triage has not given it a priority yet
            return await self.route(link, view, None, loads, now)
        if row.announcement is not None and row.assignee_gid is not None:
            # The last routing was decided but not all carried out (Asana or Slack failed): finish it first.
            tracked = await self._tasks.get_tracked_task(row.task_gid)
            if tracked is not None:
                await self._steps.apply(tracked, row)
            return 1
        if row.assignee is None:  # nobody was eligible: look again
            if view.assignee is not None:
                await self._routings.save_routing(replace(row, manual=True, closed=True))
                return 0
            return await self.route(link, view, row, loads, now)
        if view.assignee != row.assignee_gid:
            return await self._mismatch(link, row, now)
        if policy.routing.wait_for == "acknowledgement" and view.first_response_at is not None:
            await self._routings.save_routing(replace(row, closed=True))
            return 0
        clock = clock_for(policy.business_hours)
        window = clock.span(policy.routing.reassign_after)
        due = stage(clock, window, assigned_at=row.assigned_at, pinged_at=row.pinged_at, now=now)
        if due is Stage.PING:
            return await self._steps.ping(link, row, now)
        if due is Stage.REASSIGN:
            holder = await self._pool.name(row.assignee, link)
            because = wording.routing_did_not_act(
                holder, wording.when.span(policy.routing.reassign_after), wait_for=policy.routing.wait_for
            )
            return await self.route(link, view, row, loads, now, because=because)
        return 0

    async def _mismatch(self, link: Link, row: RoutedTask, now: datetime) -> int:
        """The task's assignee is not whom routing chose: a person's choice, seen in a snapshot saved after the
        routing (routing stops for the task). An unassigned snapshot may only be behind: nothing is concluded."""
        tracked = await self._tasks.get_tracked_task(row.task_gid)
        if tracked is None:
            return 0
        current = (tracked.snapshot.get("assignee") or {}).get("gid")
        if current is not None and current != row.assignee_gid and tracked.updated_at > row.assigned_at:
            await self._routings.save_routing(replace(row, manual=True, closed=True))
            log.info("task %s assigned by hand; routing stops for it", row.task_gid)
        return 0

    # ---- deciding and carrying out -------------------------------------------------------------------------

    async def route(
        self,
        link: Link,
        view: TaskView,
        row: RoutedTask | None,
        loads: Counter[AsanaUserGid | None],
        now: datetime,
        *,
        because: str | None = None,
    ) -> int:
        """Give the task to the best candidate (or leave it with its holder, saying `because` why it moves)."""
        tracked = await self._tasks.get_tracked_task(view.gid)
        if tracked is None:
            return 0
        policy = self._policy.for_project(link.project_gid)
        candidates, users = await self._pool.candidates(link, policy, loads, now)
        counts, last = await self._routings.routing_counts(link.project_gid)
        candidates = [replace(c, past_assignments=counts.get(c.email, 0)) for c in candidates]
        choice = choose(
            tracked.name,
            str(tracked.snapshot.get("notes") or ""),
            candidates,
            today=clock_for(policy.business_hours).local_date(now),
            previously_assigned=row.holders if row else (),
            short_sla=short_sla(policy, view.priority),
            last_chosen=last,
            follow_rules=policy.routing.followers,
        )
        skipped = [
            wording.skipped_part(self._pool.display(s.email, users), s.reason, s.back_on) for s in choice.skipped
        ]
        # In Slack the people skipped are named, not pinged: they are away, full or off work, and asked nothing.
        skipped_said = [
            wording.skipped_part(wording.escape(self._pool.display(s.email, users)), s.reason, s.back_on)
            for s in choice.skipped
        ]
        if choice.assignee is None:
            return await self._steps.nobody(
                link, tracked, row, policy, skipped_said, pool_empty=not candidates, now=now
            )
        user = users[choice.assignee]
        assert user is not None
        if row is not None and choice.assignee == row.assignee:
            # Everyone else is out or full: the holder keeps it, with a fresh window.
            await self._routings.save_routing(replace(row, assigned_at=now, pinged_at=None, ping_ts=None))
            holder = await self._steps.holder(row.assignee, link)
            stays = wording.routing_stays(holder, because=wording.escape(because or ""))
            await self._steps.tell(tracked, f"route:{tracked.task_gid}:stays:{row.assigned_at:%Y%m%d%H%M%S}", stays)
            return 1
        # Off work or away now (a long SLA does not skip them): the thread names them without a ping.
        at_work = await self._presence.mention_at(link, policy, now, Who(email=choice.assignee, asana_user=user.gid))
        pinged = await self._pool.mention(choice.assignee, link) if at_work <= now else None
        mention = pinged or wording.escape(user.name or choice.assignee)
        moves_on = moves_on_at(policy, now)
        comment, said = (
            wording.routing_reason(
                who,
                matched=choice.matched,
                open_tasks=choice.open_tasks,
                fewest=choice.fewest,
                skipped=named,
                because=why,
                moves_on=moves_on,
            )
            for who, named, why in (
                (user.name or choice.assignee, skipped, because),
                (mention, skipped_said, wording.escape(because) if because else None),
            )
        )
        fresh = RoutedTask(
            task_gid=tracked.task_gid,
            project_gid=link.project_gid,
            assigned_at=now,
            assignee=choice.assignee,
            assignee_gid=user.gid,
            holders=(*(row.holders if row else ()), choice.assignee),
            announcement={"comment": comment, "thread": said, "followers": list(choice.followers)},
        )
        if row is None:
            if not await self._routings.claim_routing(fresh):
                return 0  # routed already (another replica, or a run cut short): the next tick sees its row
        else:
            await self._routings.save_routing(fresh)
        await self._routings.count_routing(link.project_gid, choice.assignee, at=now)
        loads[user.gid] += 1
        if row is not None and row.assignee_gid is not None:
            loads[row.assignee_gid] -= 1
        log.info("routed task %s to %s", tracked.task_gid, choice.assignee)
        await self._steps.apply(tracked, fresh)
        return 1
