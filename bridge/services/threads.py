"""Thread → comments: replies in a task's Slack thread become Asana comments; the first one acknowledges."""

from __future__ import annotations

import asyncio
import logging
import time

from bridge.domain.model import ChannelId, CommentLink, MessageTs, SlackUserId, TeamId, TrackedTask
from bridge.domain.slack_text import readable, unnamed_users
from bridge.ports import AsanaPort, CaptureStore, Clock, CommentStore, SlackTeams, TaskStore
from bridge.services.acting import ActingFor, as_bridge
from bridge.services.answers import AnswerIndex
from bridge.services.people import People

log = logging.getLogger(__name__)

# How long a reply waits for its thread's capture to finish (Asana calls under retry can take this long).
CAPTURE_WAIT_SECONDS = 60.0


class Threads:
    def __init__(
        self,
        *,
        comments: CommentStore,
        captures: CaptureStore,
        tasks: TaskStore,
        asana: AsanaPort,
        slack: SlackTeams,
        clock: Clock,
        people: People,
        acting_for: ActingFor | None = None,
        answers: AnswerIndex | None = None,
    ) -> None:
        self._answers = answers  # thread replies are part of a task's answer (the relay skips their mirrored comments)
        self._comments = comments
        self._captures = captures
        self._tasks = tasks
        self._people = people
        self._asana = asana
        self._acting_for = acting_for or as_bridge(asana)
        self._slack = slack
        self._clock = clock
        # Replies whose comment is being written: an edit, a delete or a Slack retry of the same reply that comes
        # meanwhile waits for it (its link to the comment is saved only once Asana has answered).
        self._mirroring: dict[tuple[str, str, str], asyncio.Future[None]] = {}

    async def reply_posted(
        self, team_id: TeamId, channel_id: ChannelId, thread_ts: MessageTs, ts: MessageTs, user: SlackUserId, text: str
    ) -> bool:
        """Mirror one reply; returns whether the thread belongs to a tracked task."""
        tracked = await self._tracked(team_id, channel_id, thread_ts)
        if tracked is None:
            return False
        key = (team_id, channel_id, ts)
        await self._mirrored(key)  # a Slack retry of a reply still being written is not a 2nd comment
        if await self._comments.get_comment_link(team_id, channel_id, ts) is None:
            mirroring = self._mirroring[key] = asyncio.get_running_loop().create_future()
            try:
                acting = await self._acting_for(team_id, user, None)  # the author's own Asana account, if connected
                body = await self._comment_text(team_id, user, text, signed=not acting.as_person)
                story_gid = await acting.asana.comment(tracked.task_gid, body)
                await self._comments.save_comment_link(
                    CommentLink(team_id, channel_id, ts, tracked.task_gid, story_gid, self._clock.now())
                )
            finally:
                mirroring.set_result(None)
                if self._mirroring.get(key) is mirroring:
                    del self._mirroring[key]
            if self._answers is not None:
                await self._answers.replied(tracked, text=body, by_asker=user == tracked.requester)
        await self._acknowledge(tracked, user)
        return True

    async def _mirrored(self, key: tuple[str, str, str]) -> None:
        """Wait for the reply's comment if it is being written now (done or failed: the caller reads the link)."""
        mirroring = self._mirroring.get(key)
        if mirroring is not None:
            await asyncio.shield(mirroring)

    async def _tracked(self, team_id: TeamId, channel_id: ChannelId, thread_ts: MessageTs) -> TrackedTask | None:
        """The thread's task; when its capture is still under way (a quick first reply), wait for it to finish."""
        deadline = time.monotonic() + CAPTURE_WAIT_SECONDS
        while True:
            tracked = await self._tasks.tracked_task_by_thread(team_id, channel_id, thread_ts)
            if tracked is not None:
                return tracked
            if await self._captures.get_capture(team_id, channel_id, thread_ts) is None or time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.2)

    async def reply_edited(
        self, team_id: TeamId, channel_id: ChannelId, ts: MessageTs, user: SlackUserId, text: str
    ) -> None:
        await self._mirrored((team_id, channel_id, ts))  # an edit made as the reply is being mirrored follows it
        link = await self._comments.get_comment_link(team_id, channel_id, ts)
        if link is not None:
            acting = await self._acting_for(team_id, user, None)  # Asana lets only a comment's author edit it
            await acting.asana.edit_comment(
                link.story_gid, await self._comment_text(team_id, user, text, signed=not acting.as_person)
            )

    async def reply_deleted(
        self, team_id: TeamId, channel_id: ChannelId, ts: MessageTs, user: SlackUserId | None = None
    ) -> None:
        await self._mirrored((team_id, channel_id, ts))
        link = await self._comments.get_comment_link(team_id, channel_id, ts)
        if link is not None:
            # Asana lets only a comment's author delete it: the author's own Asana, if they are connected.
            asana = (await self._acting_for(team_id, user, None)).asana if user else self._asana
            await asana.delete_comment(link.story_gid)
            await self._comments.delete_comment_link(team_id, channel_id, ts)

    async def _acknowledge(self, tracked: TrackedTask, user: SlackUserId) -> None:
        """The first reply by someone other than the requester completes the "Acknowledge" subtask."""
        if tracked.ack_subtask_gid is None or tracked.first_response_at is not None or user == tracked.requester:
            return
        if await self._tasks.record_first_response(tracked.task_gid, at=self._clock.now(), responder=user):
            await self._asana.update_task(tracked.ack_subtask_gid, {"completed": True})
            log.info("task %s acknowledged by %s", tracked.task_gid, user)

    async def _comment_text(self, team_id: TeamId, user: SlackUserId, text: str, *, signed: bool = True) -> str:
        """Plain text (never rich text: Slack's `&<>` would make invalid XML) attributed to the Slack author (`signed`:
        written by the bridge's user; a connected author's own comment needs no signature)."""
        names = await self._people.names(team_id, [user, *unnamed_users(text)])
        plain = readable(text, names)
        return f"{names.get(user) or 'a Slack user'} (in Slack): {plain}" if signed else plain
