"""One click on a nag's buttons or a task's buttons in the App Home, as the Slack listeners hand it to NagActions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.domain.model import ChannelId, MessageTs, SlackUserId, TaskGid, TeamId
from bridge.domain.nag_clicks import Click


@dataclass(frozen=True)
class NagClick:
    """One click on a nag, or on a task's buttons in the App Home. For REASSIGN, `click.value` is the chosen Slack
    user (their Asana user is found here)."""

    team_id: TeamId
    channel_id: ChannelId | None  # None: a click in the App Home
    user: SlackUserId
    task_gid: TaskGid
    message_ts: MessageTs  # the nag's message; in the App Home, home_claim(the view's hash)
    click: Click
    message_blocks: tuple[dict[str, Any], ...] = ()  # the nag's blocks as Slack sent them: edited, not rebuilt

    @property
    def in_home(self) -> bool:
        return self.channel_id is None


def home_claim(view_hash: str) -> MessageTs:
    """The nag log's key for the clicks made in one published Home view (the column holds 32 characters)."""
    return MessageTs(f"home:{view_hash}"[:32])
