"""Finishing what a crash or an outage cut off: a capture whose answer from Asana was lost (its task is found by
the marker in its notes, not made twice), a /task kept until it ends (the sweeper finishes it for a process that
died), a claimed message that never got its task."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bridge import wording
from bridge.domain.model import Capture as CaptureRecord
from bridge.domain.model import Holder, Link, MessageTs, PendingCommand, SlackUserId
from bridge.domain.work import Task
from bridge.errors import AsanaRateLimited, AsanaUnavailable
from bridge.ports import AsanaPort, CaptureStore, Clock, SlackTeams, TaskStore
from bridge.services.capture_reading import Reader
from bridge.services.capture_request import AlreadyCaptured, Captured, CaptureRequest, marker
from bridge.services.errors import UserError

log = logging.getLogger(__name__)

# A /task is held by the process that acked it for longer than its retries last (about 16 minutes, plus timeouts);
# after that (a crash) the capture sweeper takes it, and gives up on Asana a day after the command.
COMMAND_HELD_BY_ITS_PROCESS = timedelta(minutes=30)
COMMAND_GIVE_UP = timedelta(days=1)


class Making(Protocol):
    """What recovery asks of the capture itself (services/capture.py)."""

    @property
    def reader(self) -> Reader: ...

    async def capture(self, request: CaptureRequest) -> Captured | AlreadyCaptured: ...

    async def finish(self, request: CaptureRequest, link: Link, task: Task) -> Captured: ...

    async def link_for(self, request: CaptureRequest) -> Link: ...


class Recovery:
    def __init__(
        self,
        *,
        making: Making,
        captures: CaptureStore,
        tasks: TaskStore,
        asana: AsanaPort,
        slack: SlackTeams,
        clock: Clock,
        holder: Holder | None = None,
    ) -> None:
        self._making = making
        self._captures = captures
        self._tasks = tasks
        self._asana = asana
        self._slack = slack
        self._clock = clock
        self._holder = holder  # kept /task commands name it: if it dies, another replica finishes them at once

    async def recover(self, request: CaptureRequest, *, since: datetime) -> Captured | AlreadyCaptured | None:
        """After an answer from Asana was lost: find the task the first attempt made, instead of making another."""
        found = await self._find(request, since=since)
        if found is None:
            if request.source_ts is not None:
                await self._captures.release_capture(request.team_id, request.channel_id, request.source_ts)
            return None
        link, task = found
        if request.source_ts is not None:
            await self._captures.set_capture_task(request.team_id, request.channel_id, request.source_ts, task.gid)
        return await self._making.finish(request, link, task)

    async def _find(self, request: CaptureRequest, *, since: datetime) -> tuple[Link, Task] | None:
        """The task made for this request (its marker is in the notes) among the link's tasks changed since."""
        if request.marker_key is None:
            return None
        link = await self._making.link_for(request)
        found_by = marker(request)
        for task in await self._asana.tasks_modified_since(link.project_gid, since):
            if found_by in task.notes:
                return link, task
        return None

    async def keep_commands(self, requests: Sequence[CaptureRequest]) -> None:
        """Keep acked /task commands until each ends, so that a crash in the middle (its retries during an Asana
        outage last minutes) leaves it to the capture sweeper instead of losing it."""
        now = self._clock.now()
        commands = [
            PendingCommand(
                request_key=request.request_key,
                team_id=request.team_id,
                channel_id=request.channel_id,
                requester=request.requester,
                title=request.title,
                notes=request.notes,
                assignee=request.assignee,
                due=request.due,
                priority=request.priority,
                created_at=now,
            )
            for request in requests
            if request.request_key is not None
        ]
        if not commands:
            return
        try:
            await self._captures.keep_commands(
                commands,
                held_until=now + COMMAND_HELD_BY_ITS_PROCESS,
                held_by=None if self._holder is None else self._holder.replica_id,
            )
        except Exception as exc:  # the captures go on; only a crash during them would now lose them
            log.warning("could not keep %d /task commands before capturing them: %s", len(commands), exc)

    async def forget_command(self, request: CaptureRequest) -> None:
        if request.request_key is not None:
            await self._captures.forget_command(request.request_key)

    async def finish_command(self, command: PendingCommand) -> None:
        """Finish a /task whose process ended before it did (a crash): find its task or make it, and tell the person
        how it ended. Raises while Asana is still unavailable (the sweeper tries again later), for a day."""
        request = CaptureRequest(
            team_id=command.team_id,
            channel_id=command.channel_id,
            requester=command.requester,
            title=command.title,
            notes=command.notes,
            assignee=command.assignee,
            due=command.due,
            priority=command.priority,
            request_key=command.request_key,
        )

        async def tell(text: str) -> None:
            slack = self._slack.for_team(command.team_id)
            await slack.post_ephemeral(command.channel_id, command.requester, text)

        try:
            found = await self._find(request, since=command.created_at - timedelta(minutes=1))
            if found is None or await self._tasks.get_tracked_task(found[1].gid) is None:
                result = await self._making.finish(request, *found) if found else await self._making.capture(request)
                if isinstance(result, Captured):
                    await tell(wording.task_landed(result.task))
            # else: it was finished before the crash, and the person saw its thread
        except UserError as exc:
            await tell(str(exc))
        except (AsanaUnavailable, AsanaRateLimited):
            if self._clock.now() - command.created_at < COMMAND_GIVE_UP:
                raise
            await tell(wording.CAPTURE_GAVE_UP.format(title=wording.escape(command.title)))
        await self._captures.forget_command(command.request_key)

    async def resume(self, record: CaptureRecord) -> Captured | AlreadyCaptured | None:
        """Finish a message capture whose run was cut off after its claim (a crash): find its task, or make it."""
        message = await self._slack.for_team(record.team_id).message(record.channel_id, record.message_ts)
        if message is None or not message.get("user"):
            # A thread reply (not in the channel history) or a deleted message: free it so a person can try again.
            await self._captures.release_capture(record.team_id, record.channel_id, record.message_ts)
            return None
        author = SlackUserId(str(message["user"]))
        read = await self._making.reader.message(record.team_id, record.channel_id, author, message)
        request = CaptureRequest(
            team_id=record.team_id,
            channel_id=record.channel_id,
            requester=author,
            title=read.title,
            notes=read.notes,
            source_ts=record.message_ts,
            source_thread_ts=MessageTs(str(message.get("thread_ts") or record.message_ts)),
            by_policy=True,  # the sweeper finishes it; who acted first is not kept: the bridge acts
        )
        found = await self.recover(request, since=record.created_at - timedelta(minutes=1))
        return found if found is not None else await self._making.capture(request)
