"""`/asana` and `/task`: parse in the ack, work in the background, answer in the channel or to the person."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bridge.adapters import blocks
from bridge.domain.commands import CommandError, parse_project_ref, parse_relay_setting, parse_task_command
from bridge.domain.model import CaptureMode, ChannelId, SlackUserId, TaskGid, TeamId
from bridge.domain.slack_text import readable
from bridge.entrypoints import slack_identity
from bridge.entrypoints.slack import Listeners, answering, ids, quietly
from bridge.services.capture import Captured, CaptureRequest, capture_with_retries

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Listeners) -> None:
    # /task first: Bolt tries listeners in order, and it is the command people send most.
    @app.command("/task")
    async def task_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        team, channel, user = ids(command)
        text = command.get("text") or ""
        try:
            parsed = parse_task_command(text, today=deps.capture.today())
        except CommandError as exc:
            # A mistake is answered in the ack itself (nothing was sent to Asana), with the command to fix and resend.
            await ack(text=blocks.command_error(str(exc), "/task", readable(text)))
            return
        if await deps.store.get_link(team, channel) is None:
            await ack(text=blocks.NOT_LINKED)  # one fast read, so the answer comes with the ack
            return
        await ack(
            text=blocks.working_on_task(
                parsed.title, assignee=parsed.assignee, due=parsed.due, priority=parsed.priority
            )
        )

        async def tell(text: str) -> None:
            await quietly(respond(text=text, response_type="ephemeral"), f"{user} in {channel}")

        async def created(result: Captured) -> None:
            text, confirmation = blocks.task_created(result.task, assignee=parsed.assignee, priority=parsed.priority)
            answer = respond(text=text, blocks=confirmation, response_type="ephemeral", replace_original=True)
            await quietly(answer, f"{user} in {channel}")

        async def create() -> None:
            read = await deps.capture.reader.command(parsed)
            request = CaptureRequest(
                team_id=team,
                channel_id=channel,
                requester=user,
                title=read.title,
                notes=blocks.command_notes(by=await deps.capture.reader.author(user)),
                assignee=read.assignee,
                due=read.due,
                priority=read.priority,
                request_key=str(command.get("trigger_id") or "") or None,
            )
            await deps.capture.keep_command(request)  # until it ends: a crash meanwhile leaves it to the sweeper
            try:
                await capture_with_retries(deps.capture, request, tell, delays=deps.retry_delays, landed=created)
            finally:
                await deps.capture.forget_command(request)

        async def refused(problem: str) -> None:
            # What Asana or the workspace refused (an assignee without Asana, a priority the project lacks): the
            # command comes back with it, to fix and send again.
            await tell(blocks.command_error(problem, "/task", readable(text)))

        deps.background.spawn(answering(create, refused), name=f"task {channel}")

    @app.action(blocks.TASK_UNDO)
    async def undo_task(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        user = SlackUserId(body["user"]["id"])

        async def tell(text: str) -> None:
            await respond(text=text, response_type="ephemeral", replace_original=False)

        async def undo() -> None:
            done = await deps.undo.undo(TaskGid(str(action.get("value") or "")), user)
            await respond(text=done, response_type="ephemeral", replace_original=True)

        deps.background.spawn(answering(undo, tell), name="undo task")

    @app.action(blocks.TASK_OPEN)
    async def task_opened(ack: AsyncAck) -> None:
        await ack()  # a URL button: Slack opens the task in the browser and tells us about the click

    @app.command("/asana")
    async def asana_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        words = (command.get("text") or "").split(maxsplit=1)
        verb = words[0].lower() if words else "help"
        rest = words[1].strip() if len(words) > 1 else ""
        team, channel, user = ids(command)

        async def tell(text: str) -> None:
            await respond(text=text, response_type="ephemeral")

        async def announce(text: str) -> None:
            await respond(text=text, response_type="in_channel")

        if verb == "link":
            if not rest:
                await ack(text="Which project? `/asana link https://app.asana.com/0/<project>/list`")
                return
            current = await deps.store.get_link(team, channel)
            try:
                wanted = parse_project_ref(rest)
            except CommandError:
                wanted = None  # the link service explains the mistake
            if current is not None and wanted is not None and wanted != current.project_gid:
                text, prompt = blocks.replace_link_prompt(current.project_name, rest)
                await ack(text=text, blocks=prompt)  # replacing a link needs a confirmation click
                return
            await ack(text=blocks.WORKING_ON_LINK)
            deps.background.spawn(
                answering(lambda: _link(deps, team, channel, user, rest, announce), tell), name="link"
            )
        elif verb == "unlink":
            await ack()
            deps.background.spawn(
                answering(lambda: _then(announce, deps.links.unlink(team, channel)), tell), name="unlink"
            )
        elif verb == "status":
            await ack()
            deps.background.spawn(answering(lambda: _then(tell, deps.links.status(team, channel)), tell), name="status")
        elif verb == "routing":
            await ack()
            deps.background.spawn(
                answering(lambda: _then(tell, deps.router.overview(team, channel)), tell), name="routing"
            )
        elif verb == "relay":
            await ack(text=await _set_relay(deps, team, channel, user, rest))
        elif verb == "capture":
            await ack(text=await _set_capture(deps, team, channel, user, rest.lower()))
        elif verb == "report":
            if await deps.store.get_link(team, channel) is None:
                await ack(text=blocks.REPORT_NOT_LINKED)  # one fast read, so the answer comes with the ack
                return
            await ack()
            deps.background.spawn(
                answering(lambda: deps.reports.post_summary(team, channel, user), tell), name="report"
            )
        elif verb == "connect":
            await ack()
            deps.background.spawn(slack_identity.connect_command(deps, team, user, respond), name="connect")
        elif verb == "disconnect":
            await ack()
            deps.background.spawn(slack_identity.disconnect_command(deps, team, user, respond), name="disconnect")
        elif verb == "similar" and deps.suggestions is not None:
            await ack()
            suggestions = deps.suggestions

            async def similar() -> None:
                text, found = await suggestions.similar(team, channel, user, rest)
                await respond(text=text, blocks=found or None, response_type="ephemeral")

            deps.background.spawn(answering(similar, tell), name="similar")
        elif verb == "help":
            await ack(text=blocks.HELP)
        else:
            await ack(text=blocks.UNKNOWN_SUBCOMMAND.format(word=blocks.escape(verb)))

    @app.action("link_replace_confirm")
    async def replace_link(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        team = TeamId(body["team"]["id"])
        channel = ChannelId(body["channel"]["id"])
        user = SlackUserId(body["user"]["id"])

        async def tell(text: str) -> None:
            await respond(text=text, response_type="ephemeral", replace_original=True)

        async def announce(text: str) -> None:
            await deps.slack.post_message(channel, text)
            await respond(text=blocks.LINK_REPLACED, replace_original=True)

        deps.background.spawn(
            answering(lambda: _link(deps, team, channel, user, action["value"], announce), tell), name="relink"
        )

    @app.action(blocks.REPORT_OPEN)
    async def report_opened(ack: AsyncAck) -> None:
        await ack()  # the button is a URL: Slack opens it in the browser and tells us about the click

    @app.action("link_replace_cancel")
    async def keep_link(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond(text=blocks.LINK_KEPT, replace_original=True)


async def _link(deps: Listeners, team: TeamId, channel: ChannelId, user: SlackUserId, ref: str, announce: Any) -> None:
    outcome = await deps.links.link(team, channel, user, ref)
    await announce(outcome.message)
    if deps.answers is not None:  # the project's resolved work becomes searchable, a page at a time
        deps.background.spawn(deps.answers.backfill(outcome.link.project_gid), name="answers backfill")


async def _then(say: Any, message: Any) -> None:
    await say(await message)


async def _set_relay(deps: Listeners, team: TeamId, channel: ChannelId, user: SlackUserId, words: str) -> str:
    link = await deps.store.get_link(team, channel)
    if link is None:
        return blocks.NOT_LINKED
    if not words.strip():
        return blocks.relay_setting(link)
    try:
        setting = parse_relay_setting(words)
    except CommandError as exc:
        return blocks.relay_usage(str(exc))
    changed = await deps.links.set_relay(team, channel, setting)
    if changed is not None and blocks.relay_command(changed) != blocks.relay_command(link):
        _announce(deps, channel, blocks.relay_changed(user, changed, undo=blocks.relay_command(link)))
    return blocks.relay_setting(changed or link)


async def _set_capture(deps: Listeners, team: TeamId, channel: ChannelId, user: SlackUserId, word: str) -> str:
    try:
        mode = CaptureMode(word)
    except ValueError:
        return blocks.CAPTURE_USAGE
    before = await deps.store.get_link(team, channel)
    link = await deps.links.set_capture(team, channel, mode)
    if link is None or before is None:
        return blocks.NOT_LINKED
    said = blocks.capture_mode_set(mode.value, deps.policy.for_project(link.project_gid).capture.reaction)
    if before.capture_mode is not mode:
        _announce(deps, channel, blocks.setting_changed(user, said, undo=f"/asana capture {before.capture_mode.value}"))
    return said


def _announce(deps: Listeners, channel: ChannelId, text: str) -> None:
    """A change to how the channel works is told to everyone in it, after the ack (Slack waits 3 s for that)."""
    deps.background.spawn(deps.slack.post_message(channel, text), name=f"announce in {channel}")
