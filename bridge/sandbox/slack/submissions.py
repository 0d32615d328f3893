"""What a modal submission carries, and what Slack does with the app's answer to it."""

from __future__ import annotations

import json
from typing import Any

from . import payloads
from .blocks import check_view, interactive_elements
from .models import JSON
from .surfaces import View
from .workspace import Workspace


def option(element: JSON, value: str) -> JSON:
    options = [o for group in element.get("option_groups", []) for o in group.get("options", [])]
    for option in [*element.get("options", []), *options]:
        if option.get("value") == value:
            return dict(option)
    raise LookupError(f"no option {value!r} in {element.get('action_id')!r}")


def submitted_state(view: View, values: dict[str, Any]) -> dict[str, dict[str, JSON]]:
    """state.values for a submission: what the user entered, shaped per element type, checked for required inputs."""
    unknown = set(values)
    changes: dict[tuple[str, str], Any] = {}
    for block in view.blocks:
        for element in interactive_elements(block):
            action_id = element.get("action_id")
            if action_id in values:
                unknown.discard(action_id)
                changes[(block["block_id"], action_id)] = entered(element, values[action_id])
    if unknown:
        raise KeyError(f"no input with action_id {sorted(unknown)} in view {view.id}")
    state = payloads.state_values(view.blocks, changes)
    for block_id, elements in view.state_values.items():
        for action_id, value in elements.items():
            if (block_id, action_id) not in changes and block_id in state:
                state[block_id][action_id] = value
    for block in view.blocks:
        if block.get("type") == "input" and not block.get("optional"):
            entry = state.get(block["block_id"], {}).get(block["element"]["action_id"], {})
            if not any(v not in (None, [], "") for k, v in entry.items() if k != "type"):
                # Slack's client refuses to submit a modal whose required input is empty.
                raise ValueError(f"required input {block['block_id']!r} is empty")
    return state


def entered(element: JSON, value: Any) -> Any:
    kind = element.get("type")
    if kind in {"static_select", "radio_buttons"}:
        return option(element, value)
    if kind in {"multi_static_select", "checkboxes"}:
        return [option(element, v) for v in value]
    if kind in {"external_select"}:
        return {"text": {"type": "plain_text", "text": value}, "value": value}
    return value


def apply_view_response(ws: Workspace, view: View, body: str) -> None:
    """What Slack does with the app's answer to view_submission (an invalid new view raises ApiError)."""
    answer = json.loads(body) if body.strip().startswith("{") else {}
    action = answer.get("response_action")
    if action == "errors":
        view.errors = dict(answer.get("errors", {}))
    elif action in {"update", "push"}:
        check_view(answer["view"])
        if action == "update":
            ws.views.update(view, answer["view"], None)
        else:
            ws.views.push(view.user_id, answer["view"])
    else:
        ws.views.close(view, clear=action == "clear")
