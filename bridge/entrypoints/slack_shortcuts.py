"""The "Create Asana task" message shortcut: a prefilled modal opened within the trigger's 3 s, then the task."""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bridge.adapters import blocks
from bridge.domain.model import ChannelId, MessageTs, ProjectGid, SlackUserId, TeamId
from bridge.entrypoints.slack import Listeners, answering, ephemeral_to
from bridge.services.capture import AlreadyCaptured, CaptureRequest, capture_with_retries

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Listeners) -> None:
    @app.shortcut(blocks.SHORTCUT_CALLBACK)
    async def open_modal(ack: AsyncAck, shortcut: dict[str, Any]) -> None:
        await ack()
        team = TeamId(shortcut["team"]["id"])
        channel = ChannelId(shortcut["channel"]["id"])
        message = shortcut.get("message") or {}
        # The trigger_id lives 3 s: open the modal from what is at hand (one DB read), before any Asana call.
        links = [link for link in await deps.store.list_links() if link.team_id == team]
        if not links:
            await deps.slack.open_view(shortcut["trigger_id"], blocks.no_link_modal())
            return
        projects = list({str(link.project_gid): link.project_name for link in links}.items())
        here = next((link.project_gid for link in links if link.channel_id == channel), None)
        text = message.get("text") or ""
        metadata = json.dumps(
            {
                "team": team,
                "channel": channel,
                "ts": shortcut["message_ts"],
                "thread_ts": message.get("thread_ts") or shortcut["message_ts"],
                "author": message.get("user") or shortcut["user"]["id"],
            }
        )
        view = blocks.task_modal(
            title=blocks.first_line(text) or blocks.UNTITLED,
            notes=blocks.message_notes(text, None),
            projects=projects,
            project=here,
            metadata=metadata,
        )
        await deps.slack.open_view(shortcut["trigger_id"], view)

    @app.view(blocks.TASK_MODAL_CALLBACK)
    async def submit(ack: AsyncAck, view: dict[str, Any], body: dict[str, Any]) -> None:
        values = _values(view)
        errors = _validate(values, today=deps.capture.today())
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        meta = json.loads(view.get("private_metadata") or "{}")
        clicker = SlackUserId(body["user"]["id"])
        channel = ChannelId(meta["channel"])
        say = ephemeral_to(deps, channel, clicker, meta.get("thread_ts"))

        title = (values.get(blocks.FIELD_TITLE) or "").strip()
        assignee, due, project = (
            values.get(f) for f in (blocks.FIELD_ASSIGNEE, blocks.FIELD_DUE, blocks.FIELD_PROJECT)
        )

        async def create() -> None:
            ts = MessageTs(meta["ts"])
            permalink = await deps.slack.permalink(channel, ts)
            request = CaptureRequest(
                team_id=TeamId(meta["team"]),
                channel_id=channel,
                requester=SlackUserId(meta.get("author") or clicker),
                actor=clicker,  # whoever made the task acts in Asana, for the message's author
                title=title,
                notes=blocks.message_notes(values.get(blocks.FIELD_NOTES) or "", permalink),
                assignee=SlackUserId(assignee) if assignee else None,
                due=date.fromisoformat(due) if due else None,
                priority=values.get(blocks.FIELD_PRIORITY),
                source_ts=ts,
                source_thread_ts=MessageTs(meta.get("thread_ts") or ts),
                project_gid=ProjectGid(project) if project else None,
            )
            result = await capture_with_retries(deps.capture, request, say, delays=deps.retry_delays)
            if isinstance(result, AlreadyCaptured):
                await say(blocks.already_captured(result.permalink_url))

        deps.background.spawn(answering(create, say), name=f"shortcut {channel}")


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
    if not (values.get(blocks.FIELD_TITLE) or "").strip():
        errors[blocks.FIELD_TITLE] = blocks.TITLE_REQUIRED
    due = values.get(blocks.FIELD_DUE)
    if due and date.fromisoformat(due) < today:
        errors[blocks.FIELD_DUE] = blocks.DUE_IN_PAST
    return errors
