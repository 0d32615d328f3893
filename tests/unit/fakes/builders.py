"""A link and a tracked task as most unit tests want them, changed where a test says."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bridge.domain.model import (
    ChannelId,
    Link,
    MessageTs,
    ProjectGid,
    SlackUserId,
    TaskGid,
    TeamId,
    TrackedTask,
    WorkspaceGid,
)
from tests.unit.fakes.clock import START

TEAM, CHANNEL = TeamId("T1"), ChannelId("C1")
PROJECT = ProjectGid("100")
WORKSPACE = WorkspaceGid("w1")


def a_link(**changes: Any) -> Link:
    link = Link(TEAM, CHANNEL, PROJECT, "Developer Questions", WORKSPACE, SlackUserId("U0"), START, "s-triage", "f1")
    return replace(link, **changes)


def a_tracked_task(gid: str = "500", **changes: Any) -> TrackedTask:
    task = TrackedTask(
        task_gid=TaskGid(gid),
        project_gid=PROJECT,
        team_id=TEAM,
        channel_id=CHANNEL,
        thread_ts=MessageTs("1600000000.000100"),
        permalink_url=f"https://app.asana.com/0/0/{gid}",
        name="Webhook retries",
        created_at=START,
        updated_at=START,
    )
    return replace(task, **changes)
