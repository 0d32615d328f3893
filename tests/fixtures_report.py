"""A linked channel with some history to report on, for the report's end-to-end and browser tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from bridge.domain.model import ChannelId, Link, MessageTs, ProjectGid, TaskGid, TeamId, TrackedTask
from bridge.domain.report_tasks import link_id
from tests.fixtures_bridge import Running
from tests.support import eventually

POLICY = """
[business_hours]
timezone = "UTC"

[sla]
P1 = { first_response = "4h", resolution = "2d" }
P2 = { first_response = "1d", resolution = "5d" }
"""
OPERATOR_TOKEN = "operator-token-for-tests-0123456789"

OPEN_BREACHED = "Rotate the signing key"  # P1, a month old: past both targets, whatever the time of day
OPEN_NO_SLA = "Docs typo on the webhooks page"
DONE = "Which scopes does the PAT need"


@dataclass
class Seeded:
    link: Link
    scope: str
    gids: dict[str, str]


async def link_and_seed(running: Running) -> Seeded:
    """Link the world's channel with `/asana link`, then store three tasks' history as the relay would have."""
    world = running.world
    await running.user("ana").slash_command("/asana", f"link {world.project}", world.channel)
    team = TeamId(world.slack.team.team_id)
    link = await eventually(lambda: running.bridge.store.get_link(team, ChannelId(world.channel)))
    now = datetime.now(UTC)
    field = link.priority_field_gid or "Priority"

    def task(
        n: int, name: str, *, created: datetime, priority: str | None, responded: datetime | None = None, **facts: Any
    ) -> TrackedTask:
        gid = f"77{n:05d}"
        completed = bool(facts.pop("completed", False))
        snapshot = {
            "gid": gid,
            "name": name,
            "completed": completed,
            "created_at": created.isoformat(),
            "custom_fields": [
                {"gid": field, "name": "Priority", "enum_value": {"name": priority} if priority else None}
            ],
            **facts,
        }
        return TrackedTask(
            task_gid=TaskGid(gid),
            project_gid=ProjectGid(world.project),
            team_id=team,
            channel_id=ChannelId(world.channel),
            thread_ts=MessageTs(f"1790000000.{n:06d}"),
            permalink_url=f"https://app.asana.com/0/{world.project}/{gid}",
            name=name,
            created_at=created,
            updated_at=now,
            snapshot=snapshot,
            completed=completed,
            ack_subtask_gid=TaskGid(f"88{n:05d}"),
            first_response_at=responded,
        )

    month_ago = now - timedelta(days=30)
    tasks = [
        task(
            1,
            OPEN_BREACHED,
            created=month_ago,
            priority="P1",
            due_on=(now + timedelta(days=3)).date().isoformat(),
            assignee={"gid": world.asana_people["bo"], "name": "Bo Chen"},
            _bridge_due_pushes=2,
        ),
        task(2, OPEN_NO_SLA, created=now - timedelta(hours=2), priority=None),
        task(
            3,
            DONE,
            created=now - timedelta(days=3),
            priority="P2",
            responded=now - timedelta(days=3) + timedelta(minutes=30),
            completed=True,
            completed_at=(now - timedelta(hours=1)).isoformat(),
        ),
    ]
    await running.bridge.store.add_tracked_tasks(tasks)
    return Seeded(link, link_id(team, world.channel), {t.name: t.task_gid for t in tasks})


async def report_link(running: Running) -> str:
    """Run `/asana report` as Ana in the linked channel and return the link its summary carries."""
    world = running.world
    await running.user("ana").slash_command("/asana", "report", world.channel)

    def summary() -> str | None:
        for message in world.slack.messages(world.channel):
            if message.bot_id and "SLA report" in message.text:
                assert message.blocks is not None  # the summary is a card
                return str(message.blocks[2]["elements"][0]["url"])
        return None

    return await eventually(summary)


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


async def fetch(url: str, **kwargs: Any) -> tuple[int, str, dict[str, str]]:
    async with aiohttp.ClientSession() as http, http.get(url, **kwargs) as response:
        return response.status, await response.text(), dict(response.headers)


def varied_task(link: Link, n: int, *, now: datetime, name: str) -> TrackedTask:
    """Task `n` of `link`, its history varied by `n`: open and done, with and without a due date, pushes, priority,
    acknowledgement and first response (for tests that compare reports built two ways)."""
    created = now - timedelta(minutes=37 * n)
    completed = n % 4 == 0
    snapshot = {
        "created_at": created.isoformat(),
        "completed": completed,
        "completed_at": (created + timedelta(hours=n % 30)).isoformat() if completed else None,
        "due_on": (created + timedelta(days=n % 9)).date().isoformat() if n % 3 else None,
        "assignee": {"gid": str(n % 3), "name": f"-Person {n % 3}"},
        "_bridge_due_pushes": n % 4,
        "custom_fields": [{"gid": "f-prio", "name": "Priority", "enum_value": {"name": "P1"} if n % 2 else None}],
    }
    return TrackedTask(
        task_gid=TaskGid(str(1_000 + n)),
        project_gid=link.project_gid,
        team_id=link.team_id,
        channel_id=link.channel_id,
        thread_ts=MessageTs(f"1.{n}"),
        permalink_url=f"https://app.asana.com/0/p1/{1_000 + n}",
        name=name,
        created_at=created,
        updated_at=now - timedelta(days=1),
        snapshot=snapshot,
        completed=completed,
        ack_subtask_gid=TaskGid(f"ack{n}") if n % 3 else None,
        first_response_at=created + timedelta(minutes=n % 50) if n % 6 == 1 else None,
    )
