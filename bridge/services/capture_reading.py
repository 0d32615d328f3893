"""Reading what people wrote for a capture: a Slack message (or a /task) as a task's name and description, in the
words people saw. Lookups (names, the permalink) make it read better; none of them failing stops a capture."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bridge import wording
from bridge.domain.commands import TaskCommand
from bridge.domain.model import ChannelId, MessageTs, SlackUserId, TeamId
from bridge.domain.slack_text import readable, task_name, title_of_message, unnamed_channels, unnamed_users
from bridge.errors import SlackError
from bridge.ports import SlackTeams
from bridge.services.people import People

log = logging.getLogger(__name__)


class Reader:
    def __init__(self, *, slack: SlackTeams, people: People) -> None:
        self._slack = slack
        self._people = people

    async def names(self, team_id: TeamId, markup: str, *also: str) -> dict[str, str]:
        """The names of the people and channels a text mentions without one (and of the people `also`), as far as
        Slack tells them."""
        return await self._people.names(team_id, [*also, *unnamed_users(markup)], unnamed_channels(markup))

    async def permalink(self, team_id: TeamId, channel: ChannelId, ts: MessageTs) -> str | None:
        try:
            return await self._slack.for_team(team_id).permalink(channel, ts)
        except SlackError as exc:
            log.warning("no permalink for %s/%s (%s): the task's description goes without it", channel, ts, exc)
            return None

    async def message(
        self, team_id: TeamId, channel: ChannelId, author: SlackUserId, message: Mapping[str, Any]
    ) -> Message:
        """A message to capture: its name, its description with the way back to it, in readable words."""
        text = str(message.get("text") or "")
        ts = MessageTs(str(message["ts"]))
        names = await self.names(team_id, text, author)
        by = wording.notes_author(names.get(author) or profile_name(message), author)
        return Message(
            title=title_of_message(text, names) or wording.UNTITLED,
            notes=wording.message_notes(text, by=by, names=names, permalink=await self.permalink(team_id, channel, ts)),
            text=readable(text, names),
        )

    async def commands(self, team_id: TeamId, sent: Sequence[tuple[SlackUserId, TaskCommand]]) -> list[Command]:
        """/task commands of one workspace, sent together by these people: each title with the names of the people
        and channels it mentions without one, and the description's line for who asked. One lookup of each name
        for all of them (a storm of commands is when Slack's lookups are rate limited first)."""
        users: list[str] = [user for user, _ in sent]
        mentions = [(unnamed_users(parsed.markup), unnamed_channels(parsed.markup)) for _, parsed in sent]
        channels = [channel for _, named in mentions for channel in named]
        names = await self._people.names(team_id, users + [user for named, _ in mentions for user in named], channels)
        return [
            Command(
                # Read again only if it mentions someone or a channel without a name (most titles do not).
                replace(parsed, title=task_name(parsed.markup, names)) if any(named) else parsed,
                notes=wording.command_notes(by=wording.notes_author(names.get(user), user)),
            )
            for (user, parsed), named in zip(sent, mentions, strict=True)
        ]


@dataclass(frozen=True)
class Command:
    """A /task read for a capture: as parsed, its title in the names people see, and its description."""

    parsed: TaskCommand
    notes: str


@dataclass(frozen=True)
class Message:
    """A message read for a capture: the task's name, its description (rich text), and the text people read."""

    title: str
    notes: str
    text: str


def profile_name(message: Mapping[str, Any]) -> str | None:
    """The name the event itself carries (`user_profile`), for an author Slack will not look up for the bot."""
    profile = message.get("user_profile") or {}
    name = profile.get("display_name") or profile.get("real_name") or profile.get("name")
    return str(name) if name else None
