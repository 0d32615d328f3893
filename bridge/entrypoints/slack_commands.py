"""`/task` and its confirmation's buttons: parse in the ack, create in the background (the task backlog), answer
the person."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond

from bridge import wording
from bridge.domain.commands import CommandError, parse_task_command
from bridge.domain.model import SlackUserId, TaskGid
from bridge.domain.slack_text import readable
from bridge.entrypoints.slack_listener import Listener, Listeners, answering, ids, quietly
from bridge.entrypoints.task_backlog import AckedCommand
from bridge.services.capture_request import Captured

log = logging.getLogger(__name__)


async def task_command(deps: Listeners, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
    team, channel, user = ids(command)
    text = command.get("text") or ""
    try:
        parsed = parse_task_command(text, today=deps.capture.today())
    except CommandError as exc:
        # A mistake is answered in the ack itself (nothing was sent to Asana), with the command to fix and resend.
        await ack(text=wording.command_error(str(exc), "/task", readable(text)))
        return
    if await deps.link_reads.get_link(team, channel) is None:
        await ack(text=wording.NOT_LINKED)  # one fast read, so the answer comes with the ack
        return
    await ack(
        text=wording.working_on_task(parsed.title, assignee=parsed.assignee, due=parsed.due, priority=parsed.priority)
    )

    async def tell(text: str) -> None:
        await quietly(respond(text=text, response_type="ephemeral"), f"{user} in {channel}")

    async def refused(problem: str) -> None:
        # What Asana or the workspace refused (an assignee without Asana, a priority the project lacks): the
        # command comes back with it, to fix and send again.
        await tell(wording.command_error(problem, "/task", readable(text)))

    async def landed(result: Captured) -> None:
        text, confirmation = wording.task_created(result.task, assignee=parsed.assignee, priority=parsed.priority)
        answer = respond(text=text, blocks=confirmation, response_type="ephemeral", replace_original=True)
        await quietly(answer, f"{user} in {channel}")

    request_key = str(command.get("trigger_id") or "") or None
    deps.task_backlog.accept(AckedCommand(team, channel, user, parsed, request_key, tell, refused, landed))


async def undo_task(
    deps: Listeners, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
) -> None:
    await ack()
    user = SlackUserId(body["user"]["id"])

    async def tell(text: str) -> None:
        await respond(text=text, response_type="ephemeral", replace_original=False)

    async def undo() -> None:
        done = await deps.undo.undo(TaskGid(str(action.get("value") or "")), user)
        await respond(text=done, response_type="ephemeral", replace_original=True)

    deps.background.spawn(answering(undo, tell), name="undo task")


async def task_opened(deps: Listeners, ack: AsyncAck) -> None:
    await ack()  # a URL button: Slack opens the task in the browser and tells us about the click


# /task first: Bolt tries listeners in order, and it is the command people send most.
LISTENERS = (
    Listener("command", "/task", task_command),
    Listener("action", wording.TASK_UNDO, undo_task),
    Listener("action", wording.TASK_OPEN, task_opened),
)
