"""`/asana <verb>`: a table of verbs, each a small function that acks (with the answer when it is quick) and
leaves the rest to the background; and the buttons of the link-replacing prompt."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond

from bridge import wording
from bridge.domain.commands import CommandError, parse_project_ref, parse_relay_setting
from bridge.domain.model import CaptureMode, ChannelId, SlackUserId, TeamId
from bridge.entrypoints import slack_identity
from bridge.entrypoints.slack_listener import Listener, Listeners, Say, answering, ids, quietly, then

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Asked:
    """One `/asana` command: who sent it where, its verb and the words after it."""

    team: TeamId
    channel: ChannelId
    user: SlackUserId
    verb: str
    rest: str
    respond: AsyncRespond

    async def tell(self, text: str) -> None:
        await self.respond(text=text, response_type="ephemeral")

    async def announce(self, text: str) -> None:
        await self.respond(text=text, response_type="in_channel")


Verb = Callable[[Listeners, AsyncAck, Asked], Awaitable[None]]


async def asana_command(deps: Listeners, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
    words = (command.get("text") or "").split(maxsplit=1)
    verb = words[0].lower() if words else "help"
    rest = words[1].strip() if len(words) > 1 else ""
    team, channel, user = ids(command)
    await VERBS.get(verb, unknown_verb)(deps, ack, Asked(team, channel, user, verb, rest, respond))


async def link_channel(deps: Listeners, ack: AsyncAck, asked: Asked) -> None:
    if not asked.rest:
        await ack(text="Which project? `/asana link https://app.asana.com/0/<project>/list`")
        return
    current = await deps.link_reads.get_link(asked.team, asked.channel)
    try:
        wanted = parse_project_ref(asked.rest)
    except CommandError:
        wanted = None  # the link service explains the mistake
    if current is not None and wanted is not None and wanted != current.project_gid:
        text, prompt = wording.replace_link_prompt(current.project_name, asked.rest)
        await ack(text=text, blocks=prompt)  # replacing a link needs a confirmation click
        return
    await ack(text=wording.WORKING_ON_LINK)
    work = answering(lambda: _link(deps, asked.team, asked.channel, asked.user, asked.rest, asked.announce), asked.tell)
    deps.background.spawn(work, name="link")


async def unlink_channel(deps: Listeners, ack: AsyncAck, asked: Asked) -> None:
    await ack()
    work = answering(lambda: then(asked.announce, deps.links.unlink(asked.team, asked.channel)), asked.tell)
    deps.background.spawn(work, name="unlink")


async def show_status(deps: Listeners, ack: AsyncAck, asked: Asked) -> None:
    await ack()
    work = answering(lambda: then(asked.tell, deps.links.status(asked.team, asked.channel)), asked.tell)
    deps.background.spawn(work, name="status")


async def show_routing(deps: Listeners, ack: AsyncAck, asked: Asked) -> None:
    await ack()
    work = answering(lambda: then(asked.tell, deps.routing.overview(asked.team, asked.channel)), asked.tell)
    deps.background.spawn(work, name="routing")


async def relay_setting(deps: Listeners, ack: AsyncAck, asked: Asked) -> None:
    await ack(text=await _set_relay(deps, asked.team, asked.channel, asked.user, asked.rest))


async def capture_setting(deps: Listeners, ack: AsyncAck, asked: Asked) -> None:
    await ack(text=await _set_capture(deps, asked.team, asked.channel, asked.user, asked.rest.lower()))


async def post_report(deps: Listeners, ack: AsyncAck, asked: Asked) -> None:
    if await deps.link_reads.get_link(asked.team, asked.channel) is None:
        await ack(text=wording.REPORT_NOT_LINKED)  # one fast read, so the answer comes with the ack
        return
    await ack()
    work = answering(lambda: deps.reports.post_summary(asked.team, asked.channel, asked.user), asked.tell)
    deps.background.spawn(work, name="report")


async def connect(deps: Listeners, ack: AsyncAck, asked: Asked) -> None:
    await ack()
    work = slack_identity.connect_command(deps, asked.team, asked.user, asked.respond)
    deps.background.spawn(work, name="connect")


async def disconnect(deps: Listeners, ack: AsyncAck, asked: Asked) -> None:
    await ack()
    work = slack_identity.disconnect_command(deps, asked.team, asked.user, asked.respond)
    deps.background.spawn(work, name="disconnect")


async def find_similar(deps: Listeners, ack: AsyncAck, asked: Asked) -> None:
    suggestions = deps.suggestions
    if suggestions is None:  # no index of earlier answers: the verb does not exist here
        await unknown_verb(deps, ack, asked)
        return
    await ack()

    async def find() -> None:
        text, found = await suggestions.similar(asked.team, asked.channel, asked.user, asked.rest)
        await asked.respond(text=text, blocks=found or None, response_type="ephemeral")

    deps.background.spawn(answering(find, asked.tell), name="similar")


async def show_help(deps: Listeners, ack: AsyncAck, asked: Asked) -> None:
    await ack(text=wording.HELP)


async def unknown_verb(deps: Listeners, ack: AsyncAck, asked: Asked) -> None:
    await ack(text=wording.UNKNOWN_SUBCOMMAND.format(word=wording.escape(asked.verb)))


VERBS: dict[str, Verb] = {
    "link": link_channel,
    "unlink": unlink_channel,
    "status": show_status,
    "routing": show_routing,
    "relay": relay_setting,
    "capture": capture_setting,
    "report": post_report,
    "connect": connect,
    "disconnect": disconnect,
    "similar": find_similar,
    "help": show_help,
}


async def replace_link(
    deps: Listeners, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
) -> None:
    await ack()
    team = TeamId(body["team"]["id"])
    channel = ChannelId(body["channel"]["id"])
    user = SlackUserId(body["user"]["id"])

    async def tell(text: str) -> None:
        await respond(text=text, response_type="ephemeral", replace_original=True)

    async def announce(text: str) -> None:
        await deps.slack.for_team(team).post_message(channel, text)
        await respond(text=wording.LINK_REPLACED, replace_original=True)

    deps.background.spawn(
        answering(lambda: _link(deps, team, channel, user, action["value"], announce), tell), name="relink"
    )


async def report_opened(deps: Listeners, ack: AsyncAck) -> None:
    await ack()  # the button is a URL: Slack opens it in the browser and tells us about the click


async def keep_link(deps: Listeners, ack: AsyncAck, respond: AsyncRespond) -> None:
    await ack()
    answer = respond(text=wording.LINK_KEPT, replace_original=True)
    deps.background.spawn(quietly(answer, "link kept"), name="keep link")


LISTENERS = (
    Listener("command", "/asana", asana_command),
    Listener("action", "link_replace_confirm", replace_link),
    Listener("action", wording.REPORT_OPEN, report_opened),
    Listener("action", "link_replace_cancel", keep_link),
)


async def _link(deps: Listeners, team: TeamId, channel: ChannelId, user: SlackUserId, ref: str, announce: Say) -> None:
    outcome = await deps.links.link(team, channel, user, ref)
    await announce(outcome.message)
    if deps.answers is not None:  # the project's resolved work becomes searchable, a page at a time
        deps.background.spawn(deps.answers.backfill(outcome.link.project_gid), name="answers backfill")


async def _set_relay(deps: Listeners, team: TeamId, channel: ChannelId, user: SlackUserId, words: str) -> str:
    link = await deps.link_reads.get_link(team, channel)
    if link is None:
        return wording.NOT_LINKED
    if not words.strip():
        return wording.relay_setting(link)
    try:
        setting = parse_relay_setting(words)
    except CommandError as exc:
        return wording.relay_usage(str(exc))
    changed = await deps.links.set_relay(team, channel, setting)
    if changed is not None and wording.relay_command(changed) != wording.relay_command(link):
        _announce(deps, team, channel, wording.relay_changed(user, changed, undo=wording.relay_command(link)))
    return wording.relay_setting(changed or link)


async def _set_capture(deps: Listeners, team: TeamId, channel: ChannelId, user: SlackUserId, word: str) -> str:
    try:
        mode = CaptureMode(word)
    except ValueError:
        return wording.CAPTURE_USAGE
    before = await deps.link_reads.get_link(team, channel)
    link = await deps.links.set_capture(team, channel, mode)
    if link is None or before is None:
        return wording.NOT_LINKED
    said = wording.capture_mode_set(mode.value, deps.policy.for_project(link.project_gid).capture.reaction)
    if before.capture_mode is not mode:
        _announce(
            deps, team, channel, wording.setting_changed(user, said, undo=f"/asana capture {before.capture_mode.value}")
        )
    return said


def _announce(deps: Listeners, team: TeamId, channel: ChannelId, text: str) -> None:
    """A change to how the channel works is told to everyone in it, after the ack (Slack waits 3 s for that)."""
    post = deps.slack.for_team(team).post_message(channel, text)
    deps.background.spawn(post, name=f"announce in {channel}")
