"""The suggestion buttons: ack at once, then settle the suggestion for the clicker in the background."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond

from bridge import wording
from bridge.domain.model import SlackUserId, TaskGid, TeamId
from bridge.entrypoints.slack_listener import Listener, Listeners, answering, clicker_teller


async def accept(
    deps: Listeners,
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await ack()
    settle(deps, TeamId(context.team_id or ""), body, action, respond, accepted=True)


async def reject(
    deps: Listeners,
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await ack()
    settle(deps, TeamId(context.team_id or ""), body, action, respond, accepted=False)


LISTENERS = (
    Listener("action", wording.SUGGEST_ACCEPT, accept),
    Listener("action", wording.SUGGEST_REJECT, reject),
)


def settle(
    deps: Listeners,
    team: TeamId,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    *,
    accepted: bool,
) -> None:
    suggestions = deps.suggestions
    task_gid = str(action.get("value") or "")
    channel = str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or "")
    user = SlackUserId(str((body.get("user") or {}).get("id") or ""))
    message_ts = (body.get("container") or {}).get("message_ts") or (body.get("message") or {}).get("ts")
    if suggestions is None or not task_gid.isdigit() or not channel or not user:
        return
    say = clicker_teller(deps, body, team, channel, user, respond)

    async def act() -> None:
        note = await suggestions.settle(team, TaskGid(task_gid), user, accepted=accepted, message_ts=message_ts)
        if note:
            await say(note)

    deps.background.spawn(answering(act, say), name=f"suggestion {task_gid}")
