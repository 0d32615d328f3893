"""Posting exactly once: a post is recorded in the outbox before it is sent and carries its key in the message
metadata, so a crash between the send and the record is recovered by looking in the thread, not by posting twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from itertools import count
from typing import Any

from bridge.domain.model import ChannelId, Holder, MessageTs, OutboxPost, OutboxState, TeamId, TrackedTask
from bridge.errors import SlackError
from bridge.ports import Clock, OutboxStore, SlackPort, SlackTeams

log = logging.getLogger(__name__)
POST_EVENT_TYPE = "asana_bridge_post"
# How far back a top-level post's earlier attempts are looked for: its record's time moves to each new attempt's.
LOOK_BACK = timedelta(minutes=20)


def _backoff(attempt: int) -> float:
    """0.5 s, 1 s, 2 s… up to 8 s between tries: a flaky minute costs seconds, not a growing silence."""
    return float(min(8.0, 0.5 * 2**attempt))


class PostInFlight(Exception):
    """Another worker recorded this post moments ago and may be sending it right now: try again later."""


class ThreadNotReady(PostInFlight):
    """The task's thread is still being made (its card is on its way): what is to be told there waits for it."""


def thread_key(task_gid: str) -> str:
    """The outbox key of the post that makes a captured task's thread (its card, or the reply under the message)."""
    return f"thread:{task_gid}"


class Outbox:
    """With a `holder`, a post names the replica sending it: one recorded by a replica that stopped heartbeating
    (or by this one, in an attempt that failed) is taken over at once; without, only after `in_flight_for`."""

    def __init__(
        self,
        *,
        store: OutboxStore,
        slack: SlackTeams,
        clock: Clock,
        in_flight_for: timedelta = timedelta(seconds=60),
        holder: Holder | None = None,
        give_up_after: timedelta = timedelta(minutes=15),
    ) -> None:
        self._store = store
        self._slack = slack
        self._clock = clock
        # A post recorded but not marked sent is someone's send in progress for this long; after that, a crash.
        self._in_flight_for = in_flight_for
        self._holder = holder
        self._sending: set[str] = set()  # keys this process is sending right now
        self._give_up_after = give_up_after

    async def reply(self, tracked: TrackedTask, *, key: str, text: str, blocks: list[dict[str, Any]]) -> MessageTs:
        """Post once in the tracked task's thread."""
        return await self.post_once(
            key=key,
            team_id=tracked.team_id,
            channel=tracked.channel_id,
            thread_ts=tracked.thread_ts,
            text=text,
            blocks=blocks,
        )

    async def post_once(
        self,
        *,
        key: str,
        team_id: TeamId,
        channel: ChannelId,
        thread_ts: MessageTs | None,
        text: str,
        blocks: list[dict[str, Any]],
        until_sent: bool = False,
    ) -> MessageTs:
        """Post unless a post with this key was sent already; the message's ts either way.

        `until_sent`: try again through Slack's 5xx, 429 (after its Retry-After) and timeouts, with a growing pause,
        until it is sent or `give_up_after` has passed (then the last error is raised). Each try looks for the key
        first, so an answer lost after Slack posted is not posted twice."""
        started = self._clock.now()
        for attempt in count():
            try:
                return await self._post_once(key, team_id, channel, thread_ts, text, blocks)
            except SlackError as exc:
                if not until_sent or not exc.retryable or self._clock.now() - started > self._give_up_after:
                    raise
                pause = max(exc.retry_after, _backoff(attempt))
                log.warning("post %s failed (%s); trying again in %.1fs", key, exc, pause)
            except PostInFlight:
                if not until_sent or self._clock.now() - started > self._give_up_after:
                    raise
                pause = _backoff(attempt)  # another replica is sending it: see how that went
            await asyncio.sleep(pause)
        raise AssertionError("unreachable")

    async def _post_once(
        self,
        key: str,
        team_id: TeamId,
        channel: ChannelId,
        thread_ts: MessageTs | None,
        text: str,
        blocks: list[dict[str, Any]],
    ) -> MessageTs:
        if key in self._sending:
            raise PostInFlight(key)
        slack = self._slack.for_team(team_id)
        fresh = await self._store.add_outbox_post(
            OutboxPost(
                post_key=key,
                team_id=team_id,
                channel_id=channel,
                thread_ts=thread_ts,
                payload={"text": text},
                state=OutboxState.PENDING,
                created_at=self._clock.now(),
                sender=self._sender,
            )
        )
        if not fresh:
            previous = await self._store.get_outbox_post(key)
            if previous is not None and previous.state is OutboxState.SENT and previous.message_ts:
                return previous.message_ts
            if previous is not None and not await self._take_over(previous):
                raise PostInFlight(key)
            sent = await self._sent_before(slack, key, channel, thread_ts, previous)
            if sent is not None:
                log.info("post %s was sent before a crash; not sending it again", key)
                await self._store.mark_outbox_sent(key, MessageTs(sent))
                return MessageTs(sent)
        metadata = {"event_type": POST_EVENT_TYPE, "event_payload": {"key": key}}
        self._sending.add(key)
        try:
            ts = await slack.post_message(channel, text, blocks=blocks, thread_ts=thread_ts, metadata=metadata)
        finally:
            self._sending.discard(key)
        await self._store.mark_outbox_sent(key, ts)
        return ts

    async def _sent_before(
        self, slack: SlackPort, key: str, channel: ChannelId, thread_ts: MessageTs | None, previous: OutboxPost | None
    ) -> str | None:
        """The ts of a post with this key that an earlier attempt made, if Slack has it."""
        if thread_ts is not None:
            return (await slack.posts_by_key(channel, thread_ts)).get(key)
        since = previous.created_at if previous is not None else self._clock.now()
        try:
            found = await slack.recent_posts_by_key(channel, oldest=(since - LOOK_BACK).timestamp())
        except SlackError as exc:
            if exc.retryable:
                raise
            return None  # a direct message (no history the bot may read): nothing to find
        return found.get(key)

    @property
    def _sender(self) -> str | None:
        return None if self._holder is None else self._holder.replica_id

    async def _take_over(self, previous: OutboxPost) -> bool:
        """Whether an unsent post recorded before may be sent by this process now (and it is now this one's)."""
        now = self._clock.now()
        recent = now - previous.created_at < self._in_flight_for
        if recent and previous.sender is not None and previous.sender != self._sender and self._holder is not None:
            # Another replica's send: in flight while that replica lives (and not for ever: a send is seconds).
            alive = await self._store.replica_alive(previous.sender, now=now, alive_within=self._holder.alive_within)
            if alive:
                return False
        elif recent and (previous.sender is None or self._holder is None):
            return False  # nobody to ask: wait out `in_flight_for`
        # This replica's own failed attempt, a dead replica's, or one long over: take it, unless another did.
        return await self._store.take_outbox_post(previous, sender=self._sender, now=now)
