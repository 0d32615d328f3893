"""Store fakes of what the bridge keeps about tracked tasks: the tasks and their nag moments, comment links,
captures and kept /task commands, the nag log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from bridge.domain.model import (
    Arm,
    Capture,
    ChannelId,
    CommentLink,
    Holder,
    MessageTs,
    NagKey,
    PendingCommand,
    ProjectGid,
    SlackUserId,
    TaskGid,
    TaskToJudge,
    TeamId,
    TrackedTask,
)
from bridge.domain.nag_clicks import CLICKED_COPY, PostedNag
from bridge.domain.nag_moments import ARM_AT_ONCE


@dataclass
class FakeTasks:
    """The tracked tasks, and the nag scheduler's index on them (NagIndex): a save arms a task at once."""

    tasks: dict[TaskGid, TrackedTask] = field(default_factory=dict)
    moments: dict[TaskGid, tuple[int, datetime | None]] = field(default_factory=dict)  # revision, next moment
    fingerprints: dict[tuple[str, str], str] = field(default_factory=dict)

    def _arm_at_once(self, task_gid: TaskGid) -> None:
        revision = self.moments.get(task_gid, (0, None))[0]
        self.moments[task_gid] = (revision + 1, ARM_AT_ONCE)

    async def save_tracked_task(self, task: TrackedTask) -> None:
        self.tasks[task.task_gid] = task
        self._arm_at_once(task.task_gid)

    async def add_tracked_tasks(self, tasks: Sequence[TrackedTask]) -> None:
        for task in tasks:
            if task.task_gid not in self.tasks:
                self.tasks[task.task_gid] = task
                self._arm_at_once(task.task_gid)

    async def tasks_to_judge(
        self, *, now: datetime, after: tuple[datetime, str] | None = None, limit: int = 200
    ) -> list[TaskToJudge]:
        due = sorted(
            (at, gid, revision)
            for gid, (revision, at) in self.moments.items()
            if at is not None and at <= now and gid in self.tasks and not self.tasks[gid].completed
        )
        return [
            TaskToJudge(self.tasks[gid], revision, at)
            for at, gid, revision in due
            if after is None or (at, gid) > after
        ][:limit]

    async def arm_tasks(self, arms: Sequence[Arm]) -> None:
        for arm in arms:
            if self.moments.get(arm.task_gid, (0, None))[0] == arm.revision:
                self.moments[arm.task_gid] = (arm.revision, arm.at)

    async def nag_fingerprints(self) -> dict[tuple[str, str], str]:
        return dict(self.fingerprints)

    async def rearm_link(self, project_gid: str, channel_id: str, fingerprint: str | None) -> None:
        for task in self.tasks.values():
            if (task.project_gid, task.channel_id) == (project_gid, channel_id) and not task.completed:
                self._arm_at_once(task.task_gid)
        if fingerprint is None:
            self.fingerprints.pop((project_gid, channel_id), None)
        else:
            self.fingerprints[(project_gid, channel_id)] = fingerprint

    async def get_tracked_task(self, task_gid: TaskGid) -> TrackedTask | None:
        return self.tasks.get(task_gid)

    async def forget_tracked_task(self, task_gid: TaskGid) -> None:
        self.tasks.pop(task_gid, None)

    async def tracked_task_by_thread(
        self, team_id: TeamId, channel_id: ChannelId, thread_ts: MessageTs
    ) -> TrackedTask | None:
        return next(
            (
                t
                for t in self.tasks.values()
                if (t.team_id, t.channel_id, t.thread_ts) == (team_id, channel_id, thread_ts) and t.parent_gid is None
            ),
            None,
        )

    async def tracked_tasks(
        self,
        *,
        project_gid: ProjectGid | None = None,
        open_only: bool = False,
        changed_since: datetime | None = None,
    ) -> list[TrackedTask]:
        return [
            t
            for t in sorted(self.tasks.values(), key=lambda t: t.created_at)
            if (project_gid is None or t.project_gid == project_gid)
            and not (open_only and t.completed)
            and (changed_since is None or t.updated_at >= changed_since)
        ]

    async def tracked_task_pages(self, *, open_only: bool = False, size: int = 500) -> AsyncIterator[list[TrackedTask]]:
        every = await self.tracked_tasks(open_only=open_only)
        for start in range(0, len(every), size):
            yield every[start : start + size]

    async def tracked_tasks_of(self, task_gids: Collection[TaskGid]) -> list[TrackedTask]:
        return [self.tasks[gid] for gid in task_gids if gid in self.tasks]

    async def record_first_response(self, task_gid: TaskGid, *, at: datetime, responder: SlackUserId | None) -> bool:
        task = self.tasks.get(task_gid)
        if task is None or task.first_response_at is not None:
            return False
        self.tasks[task_gid] = replace(task, first_response_at=at, first_responder=responder)
        self._arm_at_once(task_gid)  # the SLA warning is off now
        return True


@dataclass
class FakeComments:
    comment_links: dict[tuple[TeamId, ChannelId, MessageTs], CommentLink] = field(default_factory=dict)

    async def save_comment_link(self, link: CommentLink) -> None:
        self.comment_links[(link.team_id, link.channel_id, link.message_ts)] = link

    async def get_comment_link(
        self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs
    ) -> CommentLink | None:
        return self.comment_links.get((team_id, channel_id, message_ts))

    async def is_bridge_comment(self, story_gid: str) -> bool:
        return any(link.story_gid == story_gid for link in self.comment_links.values())

    async def delete_comment_link(self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs) -> None:
        self.comment_links.pop((team_id, channel_id, message_ts), None)


@dataclass
class FakeCaptures:
    captures: dict[tuple[TeamId, ChannelId, MessageTs], Capture] = field(default_factory=dict)
    commands: dict[str, PendingCommand] = field(default_factory=dict)

    async def claim_capture(self, capture: Capture) -> bool:
        key = (capture.team_id, capture.channel_id, capture.message_ts)
        if key in self.captures:
            return False
        self.captures[key] = capture
        return True

    async def set_capture_task(
        self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs, task_gid: TaskGid
    ) -> None:
        key = (team_id, channel_id, message_ts)
        self.captures[key] = replace(self.captures[key], task_gid=task_gid)

    async def get_capture(self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs) -> Capture | None:
        return self.captures.get((team_id, channel_id, message_ts))

    async def keep_commands(
        self, commands: Sequence[PendingCommand], *, held_until: datetime, held_by: str | None = None
    ) -> None:
        for command in commands:
            self.commands.setdefault(command.request_key, command)

    async def take_stale_commands(
        self, *, now: datetime, hold_until: datetime, limit: int, holder: Holder | None = None
    ) -> list[PendingCommand]:
        raise NotImplementedError("no unit test takes stale commands yet")

    async def forget_command(self, request_key: str) -> None:
        self.commands.pop(request_key, None)

    async def unfinished_captures(self, *, before: datetime, limit: int) -> list[Capture]:
        return [c for c in self.captures.values() if c.task_gid is None and c.created_at < before][:limit]

    async def release_capture(self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs) -> None:
        self.captures.pop((team_id, channel_id, message_ts), None)


@dataclass
class FakeNagLog:
    nags: dict[tuple[TaskGid, MessageTs | None, NagKey], PostedNag] = field(default_factory=dict)

    async def record_nag(self, key: NagKey, *, now: datetime, message_ts: MessageTs | None = None) -> bool:
        if any(k == key for _, _, k in self.nags):
            return False
        self.nags[(TaskGid(key.task_gid), message_ts, key)] = PostedNag(key, now, message_ts)
        return True

    async def sent_nags(self, task_gids: Collection[TaskGid]) -> set[NagKey]:
        return {key for gid, _, key in self.nags if gid in task_gids}

    async def posted_nag(self, task_gid: TaskGid, message_ts: MessageTs) -> PostedNag | None:
        return next((nag for (gid, ts, _), nag in self.nags.items() if (gid, ts) == (task_gid, message_ts)), None)

    async def claim_nag(
        self, task_gid: TaskGid, message_ts: MessageTs, *, by: SlackUserId, outcome: str, now: datetime
    ) -> str | None:
        found = next(((k, n) for k, n in self.nags.items() if k[:2] == (task_gid, message_ts)), None)
        if found is None:  # a DM copy: a row of its own
            key = NagKey(task_gid, CLICKED_COPY, "", message_ts)
            found = ((task_gid, message_ts, key), PostedNag(key, now, message_ts))
        row, nag = found
        if nag.acted_by is not None:
            return nag.outcome
        self.nags[row] = replace(nag, acted_at=now, acted_by=by, outcome=outcome)
        return None

    async def release_nag(self, task_gid: TaskGid, message_ts: MessageTs, *, by: SlackUserId) -> None:
        for row, nag in self.nags.items():
            if row[:2] == (task_gid, message_ts) and nag.acted_by == by:
                self.nags[row] = replace(nag, acted_at=None, acted_by=None, outcome=None)
