"""Modals (a stack of up to three per user) and Home tabs of one workspace, as views.* leaves them."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from .blocks import fill_ids
from .errors import ApiError
from .ids import Minter
from .models import JSON, Bot

# Slack lets a modal stack hold at most three views (views.push → push_limit_reached).
STACK_LIMIT = 3


@dataclass
class View:
    """A modal or a Home tab as Slack stores it; `to_json` gives the object views.* and view payloads carry."""

    id: str
    team_id: str
    user_id: str
    type: str
    blocks: list[JSON]
    hash: str
    app_id: str
    bot_id: str
    title: JSON | None = None
    submit: JSON | None = None
    close: JSON | None = None
    private_metadata: str = ""
    callback_id: str = ""
    external_id: str = ""
    clear_on_close: bool = False
    notify_on_close: bool = False
    previous_view_id: str | None = None
    root_view_id: str | None = None
    state_values: dict[str, dict[str, JSON]] = field(default_factory=dict)
    closed: bool = False
    # What the app answered to the last view_submission with response_action "errors".
    errors: dict[str, str] | None = None

    def to_json(self) -> JSON:
        body: JSON = {
            "id": self.id,
            "team_id": self.team_id,
            "type": self.type,
            "blocks": copy.deepcopy(self.blocks),
            "private_metadata": self.private_metadata,
            "callback_id": self.callback_id,
            "state": {"values": copy.deepcopy(self.state_values)},
            "hash": self.hash,
            "clear_on_close": self.clear_on_close,
            "notify_on_close": self.notify_on_close,
            "close": self.close,
            "submit": self.submit,
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id or self.id,
            "app_id": self.app_id,
            "external_id": self.external_id,
            "bot_id": self.bot_id,
        }
        if self.type == "modal":
            body["title"] = self.title
            body["app_installed_team_id"] = self.team_id
        return body


class Surfaces:
    def __init__(self, *, team_id: str, bot: Bot, minter: Minter) -> None:
        self.team_id = team_id
        self.bot = bot
        self.minter = minter
        self.all: list[View] = []
        self.stacks: dict[str, list[View]] = {}
        self.homes: dict[str, View] = {}

    def find(self, view_id: str | None = None, external_id: str | None = None) -> View:
        for view in self.all:
            if (view_id and view.id == view_id) or (external_id and view.external_id == external_id):
                if view.closed:
                    break
                return view
        raise ApiError("not_found")

    def open(self, user_id: str, body: JSON) -> View:
        for old in self.stacks.get(user_id, []):
            old.closed = True
        view = self._new(user_id, body)
        self.stacks[user_id] = [view]
        return view

    def push(self, user_id: str, body: JSON) -> View:
        stack = [v for v in self.stacks.get(user_id, []) if not v.closed]
        if not stack:
            raise ApiError("not_found")
        if len(stack) >= STACK_LIMIT:
            raise ApiError("push_limit_reached")
        view = self._new(user_id, body, previous=stack[-1])
        stack.append(view)
        self.stacks[user_id] = stack
        return view

    def update(self, view: View, body: JSON, expected_hash: str | None) -> View:
        if expected_hash and expected_hash != view.hash:
            raise ApiError("hash_conflict")
        self._fill(view, body)
        return view

    def publish(self, user_id: str, body: JSON, expected_hash: str | None) -> View:
        home = self.homes.get(user_id)
        if home is None:
            home = self.homes[user_id] = self._new(user_id, body)
            return home
        return self.update(home, body, expected_hash)

    def close(self, view: View, *, clear: bool = False) -> None:
        """The user closed the view (or the app answered clear/plain 200 to a submission)."""
        stack = self.stacks.get(view.user_id, [])
        closing = stack if clear else stack[stack.index(view) :] if view in stack else [view]
        for each in closing:
            each.closed = True
        self.stacks[view.user_id] = [v for v in stack if not v.closed]

    def _new(self, user_id: str, body: JSON, previous: View | None = None) -> View:
        external_id = body.get("external_id") or ""
        if external_id and any(v.external_id == external_id and not v.closed for v in self.all):
            raise ApiError("duplicate_external_id")
        view = View(
            id=self.minter.id("V"),
            team_id=self.team_id,
            user_id=user_id,
            type=body["type"],
            blocks=[],
            hash="",
            app_id=self.bot.app_id,
            bot_id=self.bot.bot_id,
            previous_view_id=previous.id if previous else None,
            root_view_id=(previous.root_view_id or previous.id) if previous else None,
        )
        self._fill(view, body)
        self.all.append(view)
        return view

    def _fill(self, view: View, body: JSON) -> None:
        view.type = body.get("type", view.type)
        view.blocks = fill_ids(copy.deepcopy(body.get("blocks", [])), self.minter.short_id)
        view.title = body.get("title")
        view.submit = body.get("submit")
        view.close = body.get("close")
        view.private_metadata = body.get("private_metadata", "")
        view.callback_id = body.get("callback_id", "")
        view.external_id = body.get("external_id", "")
        view.clear_on_close = bool(body.get("clear_on_close", False))
        view.notify_on_close = bool(body.get("notify_on_close", False))
        view.hash = self.minter.view_hash()
        view.errors = None
        # Input values survive an update for the blocks that are still there, as in Slack's client.
        kept = {b.get("block_id") for b in view.blocks}
        view.state_values = {k: v for k, v in view.state_values.items() if k in kept}
