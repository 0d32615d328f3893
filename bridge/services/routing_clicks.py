"""The people's side of routing: the buttons of a routing ping ("Keep it", "Hand it back") and `/asana routing`,
the pool's overview. The sweep that routes, pings and moves tasks on is services/routing.py's."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from bridge import wording
from bridge.domain.business_time import clock_for
from bridge.domain.model import ChannelId, MessageTs, SlackUserId, TaskGid, TeamId
from bridge.domain.nags import TaskView
from bridge.domain.policy import Policy
from bridge.domain.routing import Candidate, in_hours, out_of_office
from bridge.ports import AsanaPort, Clock, LinkReads, RoutingStore, SlackTeams, TaskStore
from bridge.services.errors import UserError
from bridge.services.people import People
from bridge.services.pool import Pool
from bridge.services.routing import Router
from bridge.services.routing_steps import moves_on_at


@dataclass(frozen=True)
class RoutingClick:
    """A click on a routing ping: keep the task, or hand it back."""

    team_id: TeamId
    channel_id: ChannelId
    user: SlackUserId
    task_gid: TaskGid
    message_ts: MessageTs
    keep: bool


class RoutingClicks:
    def __init__(
        self,
        *,
        routings: RoutingStore,
        links: LinkReads,
        tasks: TaskStore,
        asana: AsanaPort,
        slack: SlackTeams,
        people: People,
        pool: Pool,
        clock: Clock,
        policy: Policy,
        router: Router,
    ) -> None:
        self._routings = routings
        self._links = links
        self._tasks = tasks
        self._asana = asana
        self._slack = slack
        self._people = people
        self._pool = pool
        self._clock = clock
        self._policy = policy
        self._router = router  # a task handed back moves on at once, as the sweep would move it

    async def click(self, click: RoutingClick) -> str | None:
        """Keep a routed task (a fresh window) or hand it back (it moves on now); None: the thread says it all."""
        row = await self._routings.get_routing(click.task_gid)
        tracked = await self._tasks.get_tracked_task(click.task_gid)
        link = await self._links.get_link(tracked.team_id, tracked.channel_id) if tracked else None
        if row is None or tracked is None or link is None or row.closed or row.ping_ts != click.message_ts:
            return wording.ROUTING_CLICK_OUTDATED
        policy = self._policy.for_project(link.project_gid)
        clicker = await self._people.asana_user(click.team_id, click.user, link.workspace_gid)
        triager = await self._pool.user(policy.triage.triager, link) if policy.triage.triager else None
        if clicker is None or clicker not in {row.assignee_gid, triager.gid if triager else None}:
            raise UserError(wording.routing_click_refused(click.user))
        now = self._clock.now()
        holder = await self._pool.name(row.assignee or "", link)
        at = await self._pool.mention(row.assignee, link) or wording.escape(holder)
        moves_on = moves_on_at(policy, now)
        outcome = wording.routing_kept(at, moves_on) if click.keep else f"↪️ {wording.routing_handed_back(at)}."
        text, done = wording.nag_outcome(wording.routing_ping_asked(at, tracked.name), outcome)
        await self._slack.for_team(click.team_id).update_message(click.channel_id, click.message_ts, text, blocks=done)
        if click.keep:
            await self._routings.save_routing(replace(row, assigned_at=now, pinged_at=None, ping_ts=None))
            await self._asana.comment(row.task_gid, wording.routing_kept(holder, moves_on))
            return None
        view = TaskView(gid=tracked.task_gid, created_at=tracked.created_at, assignee=row.assignee_gid)
        loads = Counter(await self._pool.loads())
        await self._router.route(link, view, row, loads, now, because=wording.routing_handed_back(holder))
        return None

    async def overview(self, team_id: TeamId, channel_id: ChannelId) -> str:
        """`/asana routing`: each pool member of the channel's link, their open tasks against their capacity, and
        why they are away (out of office, outside their hours)."""
        link = await self._links.get_link(team_id, channel_id)
        if link is None:
            raise UserError(wording.NOT_LINKED)
        policy = self._policy.for_project(link.project_gid)
        now = self._clock.now()
        loads = await self._pool.loads()
        _, users = await self._pool.candidates(link, policy, Counter(), now)
        today = clock_for(policy.business_hours).local_date(now)
        rows: list[tuple[str, int, int, str | None]] = []
        for member in policy.routing.pool:
            user = users.get(member.email)
            name = self._pool.display(member.email, users)
            if user is None:
                rows.append((name, 0, member.capacity, "no Asana user with this email"))
                continue
            back = out_of_office(
                Candidate(member.email, out_of_office=await self._pool.out(user.gid, link, today)), today
            )
            away = f"out of office until {back:%a %d %b}" if back else None
            zone = await self._pool.timezone(member.email, link)
            if away is None and not in_hours(member, policy.business_hours, now, timezone=zone):
                away = "outside working hours"
            rows.append((name, loads.get(user.gid, 0), member.capacity, away))
        return wording.routing_overview(rows, wait=wording.when.span(policy.routing.reassign_after))
