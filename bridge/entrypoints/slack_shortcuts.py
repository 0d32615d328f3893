"""The "Create Asana task" message shortcut: a prefilled modal opened within the trigger's 3 s, then the task."""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond

from bridge import wording
from bridge.domain.model import ChannelId, MessageTs, ProjectGid, SlackUserId, TeamId
from bridge.domain.slack_text import fold, readable, title_of_message
from bridge.entrypoints.slack_listener import Listener, Listeners, answering, ephemeral_to, quietly
from bridge.errors import SlackError
from bridge.services.capture_reading import profile_name as _profile_name
from bridge.services.capture_request import AlreadyCaptured, CaptureRequest
from bridge.services.capture_retries import capture_with_retries

log = logging.getLogger(__name__)


async def open_modal(deps: Listeners, ack: AsyncAck, shortcut: dict[str, Any], respond: AsyncRespond) -> None:
    await ack()
    deps.background.spawn(_open_or_explain(deps, shortcut, respond), name="task form")


async def _open_or_explain(deps: Listeners, shortcut: dict[str, Any], respond: AsyncRespond) -> None:
    try:
        await _open_form(deps, shortcut)
    except SlackError as exc:
        # The trigger lives 3 s and is good once (a slow answer, a re-sent delivery): the form cannot open now.
        # Told to the person, who can simply try again.
        log.warning("the task form did not open for %s: %s", (shortcut.get("user") or {}).get("id"), exc)
        text = wording.form_not_opened(exc.code)
        if shortcut.get("response_url"):
            await quietly(respond(text=text, response_type="ephemeral", replace_original=False), "form")
        else:
            team = TeamId(shortcut["team"]["id"])
            say = ephemeral_to(deps, team, shortcut["channel"]["id"], shortcut["user"]["id"])
            await say(text)


async def submit(deps: Listeners, ack: AsyncAck, view: dict[str, Any], body: dict[str, Any]) -> None:
    values = _values(view)
    errors = _validate(values, today=deps.capture.today())
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    await ack()
    meta = json.loads(view.get("private_metadata") or "{}")
    clicker = SlackUserId(body["user"]["id"])
    channel = ChannelId(meta["channel"])
    team = TeamId(meta["team"])
    say = ephemeral_to(deps, team, channel, clicker, meta.get("thread_ts"))

    title = (values.get(wording.FIELD_TITLE) or "").strip()
    assignee, due, project = (values.get(f) for f in (wording.FIELD_ASSIGNEE, wording.FIELD_DUE, wording.FIELD_PROJECT))

    async def create() -> None:
        ts = MessageTs(meta["ts"])
        author = SlackUserId(meta.get("author") or clicker)
        request = CaptureRequest(
            team_id=team,
            channel_id=channel,
            requester=author,
            actor=clicker,  # whoever made the task acts in Asana, for the message's author
            title=fold(title),
            notes=wording.form_notes(
                values.get(wording.FIELD_NOTES) or "",
                by=wording.notes_author(meta.get("author_name"), author),
                permalink=await deps.capture.reader.permalink(team, channel, ts),
            ),
            assignee=SlackUserId(assignee) if assignee else None,
            due=date.fromisoformat(due) if due else None,
            priority=values.get(wording.FIELD_PRIORITY),
            source_ts=ts,
            source_thread_ts=MessageTs(meta.get("thread_ts") or ts),
            project_gid=ProjectGid(project) if project else None,
        )
        result = await capture_with_retries(deps.capture, request, say, delays=deps.retry_delays)
        if isinstance(result, AlreadyCaptured):
            await say(wording.already_captured(result.permalink_url))

    deps.background.spawn(answering(create, say), name=f"shortcut {channel}")


LISTENERS = (
    Listener("shortcut", wording.SHORTCUT_CALLBACK, open_modal),
    Listener("view", wording.TASK_MODAL_CALLBACK, submit),
)


async def _open_form(deps: Listeners, shortcut: dict[str, Any]) -> None:
    team = TeamId(shortcut["team"]["id"])
    channel = ChannelId(shortcut["channel"]["id"])
    message = shortcut.get("message") or {}
    # The trigger_id lives 3 s: open the modal from what is at hand (one DB read, names as far as Slack answers
    # within a second), before any Asana call.
    links = [link for link in await deps.link_reads.list_links() if link.team_id == team]
    if not links:
        await deps.slack.for_team(team).open_view(shortcut["trigger_id"], wording.no_link_modal())
        return
    projects = list({str(link.project_gid): link.project_name for link in links}.items())
    here = next((link.project_gid for link in links if link.channel_id == channel), None)
    text = str(message.get("text") or "")
    author = str(message.get("user") or shortcut["user"]["id"])
    names = await deps.capture.reader.names(team, text, author)
    metadata = json.dumps(
        {
            "team": team,
            "channel": channel,
            "ts": shortcut["message_ts"],
            "thread_ts": message.get("thread_ts") or shortcut["message_ts"],
            "author": author,
            "author_name": names.get(author) or _profile_name(message),
        }
    )
    view = wording.task_modal(
        title=title_of_message(text, names) or wording.UNTITLED,
        notes=readable(text, names),
        projects=projects,
        project=here,
        metadata=metadata,
    )
    await deps.slack.for_team(team).open_view(shortcut["trigger_id"], view)


def _values(view: dict[str, Any]) -> dict[str, str | None]:
    """The modal's state as {field: value}, whatever the element type."""
    out: dict[str, str | None] = {}
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        for element in actions.values():
            kind = element.get("type")
            if kind in ("static_select", "external_select"):
                out[block_id] = (element.get("selected_option") or {}).get("value")
            elif kind == "users_select":
                out[block_id] = element.get("selected_user")
            elif kind == "datepicker":
                out[block_id] = element.get("selected_date")
            else:
                out[block_id] = element.get("value")
    return out


def _validate(values: dict[str, str | None], *, today: date) -> dict[str, str]:
    errors = {}
    if not (values.get(wording.FIELD_TITLE) or "").strip():
        errors[wording.FIELD_TITLE] = wording.TITLE_REQUIRED
    due = values.get(wording.FIELD_DUE)
    if due and date.fromisoformat(due) < today:
        errors[wording.FIELD_DUE] = wording.DUE_IN_PAST
    return errors
