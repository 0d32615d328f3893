"""Block Kit checks Slack really enforces (docs.slack.dev/reference/block-kit), and the ids Slack fills in."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from .errors import ApiError

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
VIEW_BYTES = 250_000
ID_CHARS = 255

_BLOCK_TYPES = {
    "section", "actions", "context", "divider", "header", "image", "input", "rich_text", "file", "video",
    "markdown", "table", "context_actions",
}  # fmt: skip
# Interactive elements and the key under which a block_actions/view state reports their value.
STATE_KEYS = {
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "static_select": "selected_option",
    "multi_static_select": "selected_options",
    "external_select": "selected_option",
    "multi_external_select": "selected_options",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
    "checkboxes": "selected_options",
    "radio_buttons": "selected_option",
    "plain_text_input": "value",
    "number_input": "value",
    "email_text_input": "value",
    "url_text_input": "value",
    "rich_text_input": "rich_text_value",
}
_ELEMENTS = {*STATE_KEYS, "button", "overflow", "image", "file_input", "workflow_button"}
_OPTION_LIMITS = {
    "static_select": 100, "multi_static_select": 100, "checkboxes": 10, "radio_buttons": 10, "overflow": 5,
}  # fmt: skip


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, message: str, pointer: str) -> None:
        self.errors.append(f"[ERROR] {message} [json-pointer:{pointer}]")

    def length(self, value: Any, limit: int, pointer: str, *, required: bool = False) -> None:
        if value is None:
            if required:
                self.fail("missing required field", pointer)
            return
        if not isinstance(value, str):
            self.fail("must be a string", pointer)
        elif len(value) > limit:
            self.fail(f"must be less than {limit + 1} characters", pointer)
        elif required and not value:
            self.fail("must be more than 0 characters", pointer)

    def text(self, obj: Any, limit: int, pointer: str, *, plain: bool = False, required: bool = True) -> None:
        if obj is None:
            if required:
                self.fail("missing required field", pointer)
            return
        if not isinstance(obj, dict) or obj.get("type") not in {"plain_text", "mrkdwn"}:
            self.fail("must be a text object", pointer)
            return
        if plain and obj["type"] != "plain_text":
            self.fail("must be plain_text", f"{pointer}/type")
        self.length(obj.get("text"), limit, f"{pointer}/text", required=True)

    def options(self, options: Any, limit: int, pointer: str) -> None:
        if not isinstance(options, list):
            self.fail("must be an array", pointer)
            return
        if len(options) > limit:
            self.fail(f"must be less than {limit + 1} items", pointer)
        for i, option in enumerate(options):
            if not isinstance(option, dict):
                self.fail("must be an option object", f"{pointer}/{i}")
                continue
            self.text(option.get("text"), 75, f"{pointer}/{i}/text")
            self.length(option.get("value"), 150, f"{pointer}/{i}/value", required=True)

    def element(self, element: Any, pointer: str) -> None:
        if not isinstance(element, dict) or element.get("type") not in _ELEMENTS:
            self.fail("unsupported element type", f"{pointer}/type")
            return
        kind = element["type"]
        self.length(element.get("action_id"), ID_CHARS, f"{pointer}/action_id")
        self.text(element.get("placeholder"), 150, f"{pointer}/placeholder", plain=True, required=False)
        if kind == "button":
            self.text(element.get("text"), 75, f"{pointer}/text", plain=True)
            self.length(element.get("value"), 2000, f"{pointer}/value")
            self.length(element.get("url"), 3000, f"{pointer}/url")
            if element.get("style") not in {None, "primary", "danger"}:
                self.fail("must be primary or danger", f"{pointer}/style")
        elif kind in _OPTION_LIMITS:
            if "option_groups" in element:
                self.options(element["option_groups"], 100, f"{pointer}/option_groups")
            else:
                self.options(element.get("options"), _OPTION_LIMITS[kind], f"{pointer}/options")

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict) or block.get("type") not in _BLOCK_TYPES:
            self.fail("unsupported block type", f"{pointer}/type")
            return
        kind = block["type"]
        self.length(block.get("block_id"), ID_CHARS, f"{pointer}/block_id")
        if kind == "section":
            if "text" not in block and "fields" not in block:
                self.fail("must provide text or fields", pointer)
            self.text(block.get("text"), 3000, f"{pointer}/text", required=False)
            fields = block.get("fields", [])
            if len(fields) > 10:
                self.fail("must be less than 11 items", f"{pointer}/fields")
            for i, item in enumerate(fields):
                self.text(item, 2000, f"{pointer}/fields/{i}")
            if "accessory" in block:
                self.element(block["accessory"], f"{pointer}/accessory")
        elif kind == "header":
            self.text(block.get("text"), 150, f"{pointer}/text", plain=True)
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                self.fail("must provide elements", f"{pointer}/elements")
                return
            if len(elements) > 25:
                self.fail("must be less than 26 items", f"{pointer}/elements")
            action_ids = [e.get("action_id") for e in elements if isinstance(e, dict) and e.get("action_id")]
            if len(action_ids) != len(set(action_ids)):
                self.fail("action_id must be unique within the block", f"{pointer}/elements")
            for i, element in enumerate(elements):
                self.element(element, f"{pointer}/elements/{i}")
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 0 < len(elements) <= 10:
                self.fail("must provide 1 to 10 elements", f"{pointer}/elements")
        elif kind == "input":
            self.text(block.get("label"), 2000, f"{pointer}/label", plain=True)
            self.text(block.get("hint"), 2000, f"{pointer}/hint", plain=True, required=False)
            self.element(block.get("element"), f"{pointer}/element")
        elif kind == "image":
            self.length(block.get("alt_text"), 2000, f"{pointer}/alt_text", required=True)


def check_blocks(blocks: list[Any], *, limit: int, pointer: str, error: str) -> None:
    """Raise `too_many_blocks` or `error` (invalid_blocks / invalid_arguments) with Slack's json-pointer messages."""
    if len(blocks) > limit:
        message = f"[ERROR] must be less than {limit + 1} items [json-pointer:{pointer}]"
        raise ApiError("too_many_blocks", messages=[message])
    checker = _Checker()
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        checker.block(block, f"{pointer}/{i}")
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if block_id in seen:
            checker.fail(f"duplicate block_id {block_id!r}", f"{pointer}/{i}/block_id")
        if block_id:
            seen.add(block_id)
    if checker.errors:
        # Slack repeats the messages in a top-level "errors" list for message methods.
        extra = {"errors": [e.removeprefix("[ERROR] ") for e in checker.errors]} if error == "invalid_blocks" else {}
        raise ApiError(error, messages=checker.errors, **extra)


def check_view(view: dict[str, Any]) -> None:
    """The views.* schema checks: surface type, title/submit/close, private_metadata, ids, size and blocks."""
    checker = _Checker()
    kind = view.get("type")
    if kind not in {"modal", "home"}:
        checker.fail("must be modal or home", "/view/type")
    if kind == "modal":
        checker.text(view.get("title"), 24, "/view/title", plain=True)
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        checker.text(view.get("submit"), 24, "/view/submit", plain=True, required=has_input)
        checker.text(view.get("close"), 24, "/view/close", plain=True, required=False)
    checker.length(view.get("private_metadata"), 3000, "/view/private_metadata")
    checker.length(view.get("callback_id"), ID_CHARS, "/view/callback_id")
    checker.length(view.get("external_id"), ID_CHARS, "/view/external_id")
    if checker.errors:
        raise ApiError("invalid_arguments", messages=checker.errors)
    if len(json.dumps(view)) > VIEW_BYTES:
        raise ApiError("view_too_large")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        raise ApiError("invalid_arguments", messages=["[ERROR] missing required field: blocks [json-pointer:/view]"])
    check_blocks(blocks, limit=VIEW_BLOCKS, pointer="/view/blocks", error="invalid_arguments")


def fill_ids(blocks: list[Any], new_id: Callable[[], str]) -> list[Any]:
    """Give every block a block_id and every interactive element an action_id, as Slack does when it stores them."""
    for block in blocks:
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", new_id())
        for element in interactive_elements(block):
            element.setdefault("action_id", new_id())
        _mark_verbatim(block)
    return blocks


def interactive_elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    """The elements of a block a user can act on: actions elements, a section accessory or an input element."""
    found = [*block.get("elements", [])] if block.get("type") == "actions" else []
    for key in ("accessory", "element"):
        if isinstance(block.get(key), dict):
            found.append(block[key])
    return [e for e in found if isinstance(e, dict) and e.get("type") in _ELEMENTS]


def _mark_verbatim(node: Any) -> None:
    # Slack echoes mrkdwn text objects back with "verbatim": false (see block_actions.button_on_bot_message.json).
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            node.setdefault("verbatim", False)
        for value in node.values():
            _mark_verbatim(value)
    elif isinstance(node, list):
        for value in node:
            _mark_verbatim(value)


def rich_text(text: str, block_id: str) -> list[dict[str, Any]]:
    """The rich_text block Slack's client attaches to a typed message, with mentions and links as elements."""
    elements: list[dict[str, Any]] = []
    for part in _TOKENS.split(text):
        if not part:
            continue
        token = _TOKENS.fullmatch(part)
        if token is None:
            elements.append({"type": "text", "text": part})
            continue
        target, _, label = part[1:-1].partition("|")
        if target.startswith("@"):
            elements.append({"type": "user", "user_id": target[1:]})
        elif target.startswith("#"):
            elements.append({"type": "channel", "channel_id": target[1:]})
        else:
            elements.append({"type": "link", "url": target, **({"text": label} if label else {})})
    return [
        {
            "type": "rich_text",
            "block_id": block_id,
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]


_TOKENS = re.compile(r"(<[@#]?[^<>\s]+(?:\|[^<>]*)?>)")
