"""Tracked tasks (task ↔ Slack thread, last snapshot) and captures (a Slack message becomes at most one task)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select, update

from bridge.adapters.store.base import SqlBase
from bridge.adapters.store.engine import dialect_insert
from bridge.adapters.store.tables import captures, comments, tracked_tasks
from bridge.domain.model import (
    Capture,
    ChannelId,
    CommentLink,
    MessageTs,
    ProjectGid,
    SlackUserId,
    TaskGid,
    TeamId,
    TrackedTask,
)
from bridge.domain.nag_moments import ARM_AT_ONCE


class SqlTrackedTasks(SqlBase):
    async def save_tracked_task(self, task: TrackedTask) -> None:
        values = _task_values(task)
        async with self._write() as conn:
            stmt = dialect_insert(conn, tracked_tasks).values(values)
            changed: dict[str, Any] = {k: stmt.excluded[k] for k in values if k != "task_gid"}
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["task_gid"], set_=changed | {"revision": tracked_tasks.c.revision + 1}
                )
            )

    async def add_tracked_tasks(self, tasks: Sequence[TrackedTask]) -> None:
        """Many new tracked tasks in one transaction per thousand (an import, a benchmark's seed)."""
        async with self._write() as conn:
            for start in range(0, len(tasks), 1000):
                await conn.execute(tracked_tasks.insert(), [_task_values(t) for t in tasks[start : start + 1000]])

    async def forget_tracked_task(self, task_gid: TaskGid) -> None:
        async with self._write() as conn:
            await conn.execute(delete(tracked_tasks).where(tracked_tasks.c.task_gid == task_gid))

    async def get_tracked_task(self, task_gid: TaskGid) -> TrackedTask | None:
        async with self._read() as conn:
            row = (await conn.execute(select(tracked_tasks).where(tracked_tasks.c.task_gid == task_gid))).first()
        return None if row is None else task_from_row(row)

    async def tracked_task_by_thread(
        self, team_id: TeamId, channel_id: ChannelId, thread_ts: MessageTs
    ) -> TrackedTask | None:
        async with self._read() as conn:
            row = (
                await conn.execute(
                    select(tracked_tasks).where(
                        tracked_tasks.c.team_id == team_id,
                        tracked_tasks.c.channel_id == channel_id,
                        tracked_tasks.c.thread_ts == thread_ts,
                        tracked_tasks.c.parent_task_gid.is_(None),
                    )
                )
            ).first()
        return None if row is None else task_from_row(row)

    async def tracked_tasks(
        self,
        *,
        project_gid: ProjectGid | None = None,
        open_only: bool = False,
        changed_since: datetime | None = None,
    ) -> list[TrackedTask]:
        stmt = select(tracked_tasks).order_by(tracked_tasks.c.created_at, tracked_tasks.c.task_gid)
        if project_gid is not None:
            stmt = stmt.where(tracked_tasks.c.project_gid == project_gid)
        if open_only:
            stmt = stmt.where(tracked_tasks.c.completed.is_(False))
        if changed_since is not None:
            stmt = stmt.where(tracked_tasks.c.updated_at >= changed_since)
        async with self._read() as conn:
            return [task_from_row(row) for row in await conn.execute(stmt)]

    async def tracked_task_pages(self, *, open_only: bool = False, size: int = 500) -> AsyncIterator[list[TrackedTask]]:
        """Every tracked task, `size` at a time (by gid), so a reader of thousands never holds them all at once."""
        after = ""
        while True:
            stmt = select(tracked_tasks).where(tracked_tasks.c.task_gid > after)
            if open_only:
                stmt = stmt.where(tracked_tasks.c.completed.is_(False))
            async with self._read() as conn:
                page = [
                    task_from_row(row)
                    for row in await conn.execute(stmt.order_by(tracked_tasks.c.task_gid).limit(size))
                ]
            if not page:
                return
            yield page
            after = page[-1].task_gid

    async def tracked_tasks_of(self, task_gids: Collection[TaskGid]) -> list[TrackedTask]:
        """The tracked tasks among these gids (the others are not followed)."""
        wanted, found = list(task_gids), []
        async with self._read() as conn:
            for start in range(0, len(wanted), 1000):  # stay under the drivers' bound-parameter limits
                chunk = wanted[start : start + 1000]
                found += [
                    task_from_row(row)
                    for row in await conn.execute(select(tracked_tasks).where(tracked_tasks.c.task_gid.in_(chunk)))
                ]
        return found

    async def record_first_response(self, task_gid: TaskGid, *, at: datetime, responder: SlackUserId | None) -> bool:
        async with self._write() as conn:
            result = await conn.execute(
                update(tracked_tasks)
                .where(tracked_tasks.c.task_gid == task_gid, tracked_tasks.c.first_response_at.is_(None))
                .values(
                    first_response_at=at,
                    first_responder=responder,
                    next_check_at=ARM_AT_ONCE,  # the SLA warning is off now: the scheduler judges it again
                    revision=tracked_tasks.c.revision + 1,
                )
            )
            return bool(result.rowcount)


class SqlComments(SqlBase):
    async def save_comment_link(self, link: CommentLink) -> None:
        values = {
            "team_id": link.team_id,
            "channel_id": link.channel_id,
            "message_ts": link.message_ts,
            "task_gid": link.task_gid,
            "story_gid": link.story_gid,
            "created_at": link.created_at,
        }
        async with self._write() as conn:
            await conn.execute(
                dialect_insert(conn, comments)
                .values(values)
                .on_conflict_do_nothing(index_elements=["team_id", "channel_id", "message_ts"])
            )

    async def get_comment_link(
        self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs
    ) -> CommentLink | None:
        async with self._read() as conn:
            row = (
                await conn.execute(
                    select(comments).where(
                        comments.c.team_id == team_id,
                        comments.c.channel_id == channel_id,
                        comments.c.message_ts == message_ts,
                    )
                )
            ).first()
        if row is None:
            return None
        m = row._mapping
        return CommentLink(
            team_id=TeamId(m["team_id"]),
            channel_id=ChannelId(m["channel_id"]),
            message_ts=MessageTs(m["message_ts"]),
            task_gid=TaskGid(m["task_gid"]),
            story_gid=m["story_gid"],
            created_at=m["created_at"],
        )

    async def is_bridge_comment(self, story_gid: str) -> bool:
        async with self._read() as conn:
            row = (await conn.execute(select(comments.c.story_gid).where(comments.c.story_gid == story_gid))).first()
        return row is not None

    async def delete_comment_link(self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs) -> None:
        async with self._write() as conn:
            await conn.execute(
                delete(comments).where(
                    comments.c.team_id == team_id,
                    comments.c.channel_id == channel_id,
                    comments.c.message_ts == message_ts,
                )
            )


class SqlCaptures(SqlBase):
    async def unfinished_captures(self, *, before: datetime, limit: int) -> list[Capture]:
        stmt = (
            select(captures)
            .where(captures.c.task_gid.is_(None), captures.c.created_at < before)
            .order_by(captures.c.created_at)
            .limit(limit)
        )
        async with self._read() as conn:
            return [_capture(row) for row in await conn.execute(stmt)]

    async def claim_capture(self, capture: Capture) -> bool:
        async with self._write() as conn:
            stmt = (
                dialect_insert(conn, captures)
                .values(
                    team_id=capture.team_id,
                    channel_id=capture.channel_id,
                    message_ts=capture.message_ts,
                    task_gid=capture.task_gid,
                    created_at=capture.created_at,
                )
                .on_conflict_do_nothing(index_elements=["team_id", "channel_id", "message_ts"])
                .returning(captures.c.message_ts)
            )
            return (await conn.execute(stmt)).first() is not None

    async def set_capture_task(
        self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs, task_gid: TaskGid
    ) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(captures).where(*_capture_key(team_id, channel_id, message_ts)).values(task_gid=task_gid)
            )

    async def get_capture(self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs) -> Capture | None:
        async with self._read() as conn:
            row = (await conn.execute(select(captures).where(*_capture_key(team_id, channel_id, message_ts)))).first()
        return None if row is None else _capture(row)

    async def release_capture(self, team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs) -> None:
        # Only a capture whose task was never created: releasing one with a task would allow a second task.
        async with self._write() as conn:
            await conn.execute(
                delete(captures).where(*_capture_key(team_id, channel_id, message_ts), captures.c.task_gid.is_(None))
            )


def _capture(row: Row[Any]) -> Capture:
    m = row._mapping
    return Capture(
        team_id=TeamId(m["team_id"]),
        channel_id=ChannelId(m["channel_id"]),
        message_ts=MessageTs(m["message_ts"]),
        task_gid=None if m["task_gid"] is None else TaskGid(m["task_gid"]),
        created_at=m["created_at"],
    )


def _capture_key(team_id: TeamId, channel_id: ChannelId, message_ts: MessageTs) -> tuple[Any, ...]:
    return (captures.c.team_id == team_id, captures.c.channel_id == channel_id, captures.c.message_ts == message_ts)


def _task_values(task: TrackedTask) -> dict[str, Any]:
    return {
        "task_gid": task.task_gid,
        "project_gid": task.project_gid,
        "team_id": task.team_id,
        "channel_id": task.channel_id,
        "thread_ts": task.thread_ts,
        "permalink_url": task.permalink_url,
        "name": task.name,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "snapshot": task.snapshot,
        "requester": task.requester,
        "completed": task.completed,
        "ack_subtask_gid": task.ack_subtask_gid,
        "first_response_at": task.first_response_at,
        "first_responder": task.first_responder,
        "parent_task_gid": task.parent_gid,
        "next_check_at": ARM_AT_ONCE,  # a save may change what is due: the scheduler judges it at its next tick
    }


def task_from_row(row: Row[Any]) -> TrackedTask:
    m = row._mapping
    return TrackedTask(
        task_gid=TaskGid(m["task_gid"]),
        project_gid=ProjectGid(m["project_gid"]),
        team_id=TeamId(m["team_id"]),
        channel_id=ChannelId(m["channel_id"]),
        thread_ts=MessageTs(m["thread_ts"]),
        permalink_url=m["permalink_url"],
        name=m["name"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        snapshot=m["snapshot"],
        requester=None if m["requester"] is None else SlackUserId(m["requester"]),
        completed=bool(m["completed"]),
        ack_subtask_gid=None if m["ack_subtask_gid"] is None else TaskGid(m["ack_subtask_gid"]),
        first_response_at=m["first_response_at"],
        first_responder=None if m["first_responder"] is None else SlackUserId(m["first_responder"]),
        parent_gid=None if m["parent_task_gid"] is None else TaskGid(m["parent_task_gid"]),
    )
