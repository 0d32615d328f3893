"""The App Home: the person's open tasks in Asana (SLAs at risk, due soon, the rest) with the nag buttons, and
what they chose (for now, a DM when a task is assigned to them in Asana).

The tasks come from the bridge's stored snapshots, judged by the SLA report's rules; opening the Home reads nothing
of Asana. Cost of one publish, warm: the person's settings (one primary-key read), their Asana user (one
primary-key read of the cached mapping), the links (one read), then per link of the workspace one query that
filters that link's tracked tasks by assignee and state in the database (snapshot fields picked out by SQL, no
snapshot decoded in Python), one primary-key read of a task's snapshot per link the person has tasks in (for the
Priority options), and one `views.publish`. A cold mapping (once a day per person, hourly for someone not found)
adds Slack's users.info and Asana's user lookup by email, as every other feature that needs the person does. A
workspace with no link asks nothing about the person at all. Measured on SQLite with 10,000 tracked tasks, for a
person with 716 open ones: 43 ms p50 for the whole Home before views.publish (the assignee filter alone scans the
link's snapshots in 17 ms; reading and judging that person's rows takes the rest).
"""

from __future__ import annotations

from collections.abc import Callable

from bridge import wording
from bridge.domain.business_time import clock_for
from bridge.domain.home import HomeList, home_list
from bridge.domain.model import AsanaUserGid, Link, SlackUserId, TeamId, UserSettings, WorkspaceGid
from bridge.domain.policy import Policy
from bridge.domain.report import open_items
from bridge.domain.report_tasks import ReportTask, link_id, report_task
from bridge.domain.work import custom_field, enabled_options
from bridge.ports import Clock, LinkReads, ReportStore, SlackTeams, TaskStore, UserSettingsStore
from bridge.services.identity import Identities
from bridge.services.people import People

LISTED = 30  # two blocks a task: 60 of the Home's 100 blocks, the rest for headings, notes and the switch


class Home:
    def __init__(
        self,
        *,
        links: LinkReads,
        tasks: TaskStore,
        reports: ReportStore,
        user_settings: UserSettingsStore,
        slack: SlackTeams,
        people: People,
        clock: Clock,
        policy: Policy,
        workspace_gid: Callable[[], str | None],
        listed: int = LISTED,
        identities: Identities | None = None,
    ) -> None:
        self._identities = identities
        self._links = links
        self._tasks = tasks
        self._reports = reports
        self._user_settings = user_settings
        self._slack = slack
        self._people = people
        self._clock = clock
        self._policy = policy
        self._workspace_gid = workspace_gid
        self._listed = listed

    async def show(self, team_id: TeamId, user_id: SlackUserId, *, note: str | None = None) -> None:
        """Publish the person's Home, with `note` (mrkdwn made by wording) at the top: what a click just did."""
        settings = await self._user_settings.get_user_settings(team_id, user_id)
        links = [link for link in await self._links.list_links() if link.team_id == team_id]
        listing: HomeList | None = None
        priorities: dict[str, list[tuple[str, str]]] = {}
        if links:  # only the links of the person's own workspace
            workspace = WorkspaceGid(self._workspace_gid() or links[0].workspace_gid)
            asana_user = await self._people.asana_user(team_id, user_id, workspace)
            if asana_user is None:
                note = note or wording.HOME_NO_ASANA_USER
            else:
                listing, priorities = await self._listing(links, asana_user)
        view = wording.home_view(
            assignment_dms=settings is not None and settings.assignment_dms,
            note=note,
            listing=listing,
            priorities=priorities,
            linked=bool(links),
        )
        if self._identities is not None and self._identities.configured:
            asana_name = await self._identities.connected_as(team_id, user_id)
            view["blocks"].extend(wording.home_connection(asana_name=asana_name))
        await self._slack.for_team(team_id).publish_home(user_id, view)

    async def _listing(
        self, links: list[Link], asana_user: AsanaUserGid
    ) -> tuple[HomeList, dict[str, list[tuple[str, str]]]]:
        """The person's open tasks over `links`, and the priority options of each link they have tasks in."""
        tasks: list[ReportTask] = []
        priorities: dict[str, list[tuple[str, str]]] = {}
        for link in links:
            mine = await self._tasks_of(link, asana_user)
            if mine:
                tasks.extend(mine)
                priorities[link_id(link.team_id, link.channel_id)] = await self._priority_options(link, mine[0])
        now = self._clock.now()
        items = open_items(tasks, policy_of=self._policy.for_project, now=now)
        clock = clock_for(self._policy.business_hours)
        listing = home_list(items, today=clock.local_date(now), limit=self._listed, workday=clock.workday)
        return listing, priorities

    async def _tasks_of(self, link: Link, asana_user: AsanaUserGid) -> list[ReportTask]:
        rows = await self._reports.report_tasks(
            team_id=link.team_id,
            channel_id=link.channel_id,
            priority_field=self._priority_field(link),
            assignee_gid=asana_user,
            open_only=True,
        )
        return [report_task(row) for row in rows]

    async def _priority_options(self, link: Link, task: ReportTask) -> list[tuple[str, str]]:
        """The options of the link's priority field, as a task of it has them (every task of a project shares them)."""
        tracked = await self._tasks.get_tracked_task(task.gid)
        found = custom_field(tracked.snapshot, self._priority_field(link)) if tracked is not None else None
        return enabled_options(found) if found is not None else []

    def _priority_field(self, link: Link) -> str:
        return link.priority_field_gid or self._policy.for_project(link.project_gid).triage.priority_field

    async def set_assignment_dms(self, team_id: TeamId, user_id: SlackUserId, on: bool) -> None:
        """Switch the DM on or off and show the result; switching on needs the person's Asana account."""
        workspace = self._workspace_gid()
        asana_user = await self._people.asana_user(team_id, user_id, WorkspaceGid(workspace)) if workspace else None
        if on and asana_user is None:
            await self.show(team_id, user_id, note=wording.HOME_NO_ASANA_USER)
            return
        await self._user_settings.save_user_settings(
            UserSettings(
                team_id=team_id,
                slack_user_id=user_id,
                asana_user_gid=asana_user,
                updated_at=self._clock.now(),
                assignment_dms=on,
            )
        )
        await self.show(team_id, user_id)
