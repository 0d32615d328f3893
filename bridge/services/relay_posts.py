"""What the relay says, and where: one reply per burst in the task's thread (as much as the channel wants to hear),
a DM to a new assignee who asked for one. A reply is recorded in the outbox before it is sent and carries its key
in the message metadata, so a crash between the send and the record is recovered by looking in the thread instead
of posting twice."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from bridge import wording
from bridge.domain.events import key_digest
from bridge.domain.model import AsanaUserGid, ChannelId, ClaimedEvent, Holder, Link, MessageTs, TrackedTask
from bridge.domain.work import Task
from bridge.errors import AsanaError, SlackError
from bridge.ports import Clock, LinkReads, OutboxStore, SlackTeams, UserMappings
from bridge.services.outbox import Outbox, thread_key
from bridge.services.people import People

log = logging.getLogger(__name__)
# A thread's card is retried for up to 15 minutes (Outbox.post_once until_sent); events wait a little longer.
THREAD_COMING_FOR = timedelta(minutes=20)
Line = tuple[str, str]  # (kind of change, as in [relay] kinds; the words)


class RelayPosts:
    def __init__(
        self,
        *,
        links: LinkReads,
        mappings: UserMappings,
        posts: OutboxStore,
        slack: SlackTeams,
        people: People,
        clock: Clock,
        in_flight_for: timedelta = timedelta(seconds=60),
        holder: Holder | None = None,
    ) -> None:
        self._links = links
        self._mappings = mappings
        self._posts = posts
        self._slack = slack
        self._people = people
        self._clock = clock
        self._outbox = Outbox(store=posts, slack=slack, clock=clock, in_flight_for=in_flight_for, holder=holder)

    async def reply(self, tracked: TrackedTask, lines: list[Line], events: Sequence[ClaimedEvent]) -> None:
        """One reply with the lines the channel wants (none in quiet mode: the root message says enough)."""
        link = await self.link_of(tracked)
        if link is not None and (link.quiet or link.relay_kinds is not None):
            lines = [] if link.quiet else [(kind, line) for kind, line in lines if kind in (link.relay_kinds or ())]
        if not lines:
            return
        text, reply = wording.relay_message([line for _, line in lines])
        await self._outbox.reply(tracked, key=burst_key(events), text=text, blocks=reply)

    async def root(
        self, link: Link, events: Sequence[ClaimedEvent], text: str, blocks: list[dict[str, Any]]
    ) -> MessageTs:
        """A new top-level post in the link's channel (a task made in Asana: its card becomes its thread)."""
        return await self._outbox.post_once(
            key=burst_key(events),
            team_id=link.team_id,
            channel=link.channel_id,
            thread_ts=None,
            text=text,
            blocks=blocks,
        )

    async def tell_assignee(self, tracked: TrackedTask, task: Task, events: Sequence[ClaimedEvent]) -> None:
        """A DM to the new assignee, if they asked for one in the App Home and did not assign it to themselves."""
        assignee = task.assignee
        if assignee is None or any((e.event.payload.get("user") or {}).get("gid") == assignee for e in events):
            return
        people = await self._mappings.assignment_dm_subscribers(tracked.team_id, assignee)
        if not people:
            return
        thread_url = await self._thread_url(tracked)
        text, post = wording.assignment_dm(task, channel=tracked.channel_id, thread_url=thread_url)
        for person in people:
            key = f"{burst_key(events)}:dm:{person}"
            await self._outbox.post_once(
                key=key, team_id=tracked.team_id, channel=ChannelId(person), thread_ts=None, text=text, blocks=post
            )

    async def thread_coming(self, task_gid: str) -> bool:
        """Whether a task's card (its thread) is on its way: captured moments ago, Slack failing, say."""
        card = await self._posts.get_outbox_post(thread_key(task_gid))
        return card is not None and self._clock.now() - card.created_at < THREAD_COMING_FOR

    async def mention(self, tracked: TrackedTask, link: Link | None, asana_gid: str | None) -> str | None:
        """The Slack user of someone a line names, so that the line @mentions them; None when not in Slack."""
        if asana_gid is None or link is None:
            return None
        try:
            return await self._people.slack_user(tracked.team_id, AsanaUserGid(asana_gid), link.workspace_gid)
        except (AsanaError, SlackError) as exc:  # the line names them instead
            log.info("no Slack user found for %s: %s", asana_gid, exc)
            return None

    async def link_of(self, tracked: TrackedTask) -> Link | None:
        return await self._links.get_link(tracked.team_id, tracked.channel_id)

    async def _thread_url(self, tracked: TrackedTask) -> str | None:
        try:
            return await self._slack.for_team(tracked.team_id).permalink(tracked.channel_id, tracked.thread_ts)
        except SlackError:
            return None  # the DM still says which channel


def about(tracked: TrackedTask, lines: list[Line]) -> list[Line]:
    """A subtask's news is told in its parent's thread, saying which subtask it is about."""
    if tracked.parent_gid is None:
        return lines
    return [("subtasks", wording.subtask_line(tracked.name, line)) for _, line in lines]


def burst_key(events: Sequence[ClaimedEvent]) -> str:
    """The same burst of events always makes the same post key (the digests only: as it was before keys had their
    time prefix, so that a post sent before that upgrade is still found)."""
    keys = sorted(key_digest(e.event.dedupe_key) for e in events)
    return hashlib.sha256("|".join(keys).encode()).hexdigest()[:32]
