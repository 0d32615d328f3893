"""What a capture is asked for and what it answers, and the marker that finds a task made for a request again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import date
from typing import Any

from bridge.domain.model import (
    ChannelId,
    Link,
    MessageTs,
    ProjectGid,
    SlackUserId,
    TaskGid,
    TeamId,
)
from bridge.domain.work import Task


@dataclass(frozen=True)
class CaptureRequest:
    """What to capture. `source_ts` names a Slack message being captured (None for /task, which posts anew)."""

    team_id: TeamId
    channel_id: ChannelId
    requester: SlackUserId
    title: str
    notes: str = ""
    assignee: SlackUserId | None = None
    due: date | None = None
    priority: str | None = None
    source_ts: MessageTs | None = None
    source_thread_ts: MessageTs | None = None
    project_gid: ProjectGid | None = None  # chosen in the shortcut's modal; defaults to the channel's link
    # What Slack named this request by (a /task command's trigger_id): like a captured message's ts, it is written
    # into the task's notes, so that a retry after a lost answer from Asana finds the task instead of making another.
    request_key: str | None = None
    actor: SlackUserId | None = None  # who acts in Asana (the reactor, the shortcut's user); None: the requester
    by_policy: bool = False  # captured by the link's `capture = "all"`: nobody acted, the bridge does

    @property
    def marker_key(self) -> str | None:
        return self.source_ts or self.request_key


@dataclass(frozen=True)
class Captured:
    task: Task
    thread_ts: MessageTs
    link: Link


@dataclass(frozen=True)
class AlreadyCaptured:
    task_gid: TaskGid | None
    permalink_url: str | None


AfterCapture = Callable[["Captured", CaptureRequest], Awaitable[None]]
Defer = Callable[[Coroutine[Any, Any, None], str], object]  # runs work beside the caller (Background.spawn)


def marker(request: CaptureRequest) -> str:
    """Written into the notes of a captured message's task: how a lost answer from Asana is found again."""
    return f"[slack:{request.team_id}/{request.channel_id}/{request.marker_key}]"
