"""Tracked tasks, their comments, captures and pending commands, and the log of Slack events already seen."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from typing import Protocol

from bridge.domain.model import (
    Capture,
    ChannelId,
    CommentLink,
    Holder,
    MessageTs,
    PendingCommand,
    ProjectGid,
    SlackUserId,
    TaskGid,
    TeamId,
    TrackedTask,
)


class TaskStore(Protocol):
    """The tracked tasks: each Asana task the bridge follows, with its thread and last snapshot."""

    async def save_tracked_task(self, task: TrackedTask) -> None:
        """Insert or replace by task_gid."""
        ...

    async def add_tracked_tasks(self, tasks: Sequence[TrackedTask]) -> None: ...

    async def get_tracked_task(self, task_gid: TaskGid) -> TrackedTask | None: ...

    async def forget_tracked_task(self, task_gid: TaskGid) -> None:
        """Stop following a task (it was undone: deleted right after it was made)."""
        ...

    async def tracked_task_by_thread(
        self, team_id: TeamId, channel_id: ChannelId, thread_ts: MessageTs
    ) -> TrackedTask | None: ...

    async def tracked_tasks(
        self,
        *,
        project_gid: ProjectGid | None = None,
        open_only: bool = False,
        changed_since: datetime | None = None,
    ) -> list[TrackedTask]:
        """Oldest first; `changed_since` keeps those saved (updated_at) at or after that moment."""
        ...

    def tracked_task_pages(self, *, open_only: bool = False, size: int = 500) -> AsyncIterator[list[TrackedTask]]:
        """Every tracked task, `size` at a time, so a reader of thousands never holds them all at once."""
        ...

    async def tracked_tasks_of(self, task_gids: Collection[TaskGid]) -> list[TrackedTask]: ...

    async def record_first_response(self, task_gid: TaskGid, *, at: datetime, responder: SlackUserId | None) -> bool:
        """Set the task's first response if it has none yet; False if it had one (compare-and-set)."""
        ...


class CommentStore(Protocol):
    """Slack thread replies mirrored as Asana comments."""

    async def save_comment_link(self, link: CommentLink) -> None: ...

    async def get_comment_link(
        self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs
    ) -> CommentLink | None: ...

    async def is_bridge_comment(self, story_gid: str) -> bool:
        """Whether an Asana story was written by the bridge from a Slack reply (never relay it back)."""
        ...

    async def delete_comment_link(self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs) -> None: ...


class CaptureStore(Protocol):
    """Captures (a message becomes at most one task) and the acked /task commands kept until done."""

    async def claim_capture(self, capture: Capture) -> bool:
        """Insert the capture; False if (team, channel, message_ts) was captured already."""
        ...

    async def set_capture_task(
        self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs, task_gid: TaskGid
    ) -> None: ...

    async def get_capture(self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs) -> Capture | None: ...

    async def keep_commands(
        self, commands: Sequence[PendingCommand], *, held_until: datetime, held_by: str | None = None
    ) -> None:
        """Keep acked /task commands (in one transaction) until `forget_command`, held by the caller (replica
        `held_by`) until `held_until`."""
        ...

    async def take_stale_commands(
        self, *, now: datetime, hold_until: datetime, limit: int, holder: Holder | None = None
    ) -> list[PendingCommand]:
        """Kept commands nobody holds any more (oldest first): their hold ran out or, with a holder, the replica
        holding them stopped heartbeating. Held now by the caller until `hold_until`."""
        ...

    async def forget_command(self, request_key: str) -> None: ...

    async def unfinished_captures(self, *, before: datetime, limit: int) -> list[Capture]:
        """Claimed captures that never got a task and are older than `before` (their run was cut off)."""
        ...

    async def release_capture(self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs) -> None:
        """Forget a capture whose task was never created, so that it can be tried again."""
        ...


class SlackEventLog(Protocol):
    """Slack retries carry the same event_id."""

    async def remember_slack_event(self, event_id: str, now: datetime) -> bool:
        """True the first time an event_id is seen, False for every repeat."""
        ...
