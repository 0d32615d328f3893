"""The /task commands acked and not ended yet: kept together as they arrive, then made in Asana a few at a time.

A storm of commands is when acks matter most (Slack gives 3 s) and the loop has least time to spare. So the work
after an ack is done in batches, never one task per command: the commands acked since the keeper's last turn are
read (each name looked up once for all of them) and kept for the sweeper in one transaction, then wait for a few
workers, as many as captures may run at once (their turn at Asana is the slow part anyway).

The workers take the channels in turn: a capture holds its worker until its card is posted, and Slack takes about
one post a second in a channel, so a storm in one channel would otherwise hold every worker and keep a /task in
another channel waiting behind all of it.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bridge import wording
from bridge.domain.commands import TaskCommand
from bridge.domain.model import ChannelId, SlackUserId, TeamId
from bridge.entrypoints.background import Background
from bridge.entrypoints.slack_listener import Say, answering
from bridge.services.capture import CAPTURES_AT_ONCE, Capture
from bridge.services.capture_reading import Command
from bridge.services.capture_request import Captured, CaptureRequest
from bridge.services.capture_retries import capture_with_retries

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AckedCommand:
    """A /task acked: what was understood, and the ways to answer the person who sent it."""

    team: TeamId
    channel: ChannelId
    user: SlackUserId
    parsed: TaskCommand
    request_key: str | None  # Slack's trigger_id: the kept command's key, and the marker in the task's notes
    tell: Say  # a line to the person (a delay, how an outage ended)
    refused: Say  # what went wrong, with their command to fix and send again
    landed: Callable[[Captured], Awaitable[None]]  # the confirmation, once the task is made


class TaskBacklog:
    def __init__(
        self,
        *,
        capture: Capture,
        background: Background,
        retry_delays: tuple[float, ...],
        workers: int = CAPTURES_AT_ONCE,
    ) -> None:
        self._capture = capture
        self._background = background
        self._retry_delays = retry_delays
        self._most_workers = workers
        self._arrived: list[AckedCommand] = []
        self._keeping = False
        # Per channel, in the order the channels are served next (a dict keeps insertion order).
        self._ready: dict[tuple[TeamId, ChannelId], deque[tuple[AckedCommand, CaptureRequest]]] = {}
        self._workers = 0

    def accept(self, command: AckedCommand) -> None:
        """Take an acked command (never waits: it is called between the ack and the listener's return)."""
        self._arrived.append(command)
        if not self._keeping:
            self._keeping = True
            self._background.spawn(self._keep_arrived(), name="keep /task commands")

    @property
    def waiting(self) -> int:
        """Commands acked and not yet being made."""
        return len(self._arrived) + sum(len(queue) for queue in self._ready.values())

    async def _keep_arrived(self) -> None:
        try:
            while self._arrived:
                batch, self._arrived = self._arrived, []
                read = [(command, _request(command, named)) for command, named in await self._read(batch)]
                # Kept until it ends: a crash meanwhile leaves it to the capture sweeper, which makes it or finds
                # the task made (by the marker in its notes) and tells the person.
                await self._capture.recovery.keep_commands([request for _, request in read])
                for command, request in read:
                    self._ready.setdefault((command.team, command.channel), deque()).append((command, request))
                while self._workers < self._most_workers and self._ready:
                    self._workers += 1
                    self._background.spawn(self._work(), name="make /task commands")
        finally:
            self._keeping = False

    async def _read(self, batch: list[AckedCommand]) -> list[tuple[AckedCommand, Command]]:
        """The commands in the words people see, the names looked up once for each workspace's commands."""
        read: list[tuple[AckedCommand, Command]] = []
        for team in dict.fromkeys(command.team for command in batch):
            sent = [command for command in batch if command.team == team]
            try:
                named = await self._capture.reader.commands(team, [(c.user, c.parsed) for c in sent])
            except Exception:  # a bug: the commands are still made, under the ids Slack sent
                log.exception("could not read the names of %d /task commands", len(sent))
                named = [Command(c.parsed, wording.command_notes(by=wording.notes_author(None, c.user))) for c in sent]
            read += zip(sent, named, strict=True)
        return read

    async def _work(self) -> None:
        try:
            while self._ready:
                command, request = self._next()
                await answering(_making(self._capture, command, request, self._retry_delays), command.refused)
        finally:
            self._workers -= 1

    def _next(self) -> tuple[AckedCommand, CaptureRequest]:
        """The next command of the channel whose turn it is; that channel then goes to the back of the line."""
        channel = next(iter(self._ready))
        queue = self._ready.pop(channel)
        taken = queue.popleft()
        if queue:
            self._ready[channel] = queue
        return taken


def _request(command: AckedCommand, named: Command) -> CaptureRequest:
    return CaptureRequest(
        team_id=command.team,
        channel_id=command.channel,
        requester=command.user,
        title=named.parsed.title,
        notes=named.notes,
        assignee=named.parsed.assignee,
        due=named.parsed.due,
        priority=named.parsed.priority,
        request_key=command.request_key,
    )


def _making(
    capture: Capture, command: AckedCommand, request: CaptureRequest, delays: tuple[float, ...]
) -> Callable[[], Awaitable[Any]]:
    async def make() -> None:
        try:
            await capture_with_retries(capture, request, command.tell, delays=delays, landed=command.landed)
        finally:
            await capture.recovery.forget_command(request)

    return make
