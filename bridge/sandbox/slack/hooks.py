"""response_url endpoints: minted per interaction, good for five responses within thirty minutes, as in Slack."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .blocks import MESSAGE_BLOCKS, check_blocks, fill_ids
from .errors import ApiError
from .models import JSON, Ephemeral, Message
from .workspace import Workspace

HOOK_USES = 5
HOOK_TTL = 30 * 60.0


@dataclass
class Hook:
    id: str
    workspace: Workspace
    channel: str
    user: str
    created: float
    # The message the interaction came from, or the last one posted through this URL: what replace/delete act on.
    original: Message | Ephemeral | None = None
    uses: int = 0


class Hooks:
    def __init__(self, root_url: Callable[[], str]) -> None:
        self._root_url = root_url
        self.by_id: dict[str, Hook] = {}

    def mint(self, ws: Workspace, channel: str, user: str, original: Message | Ephemeral | None = None) -> str:
        hook = Hook(
            id=f"{ws.team_id}/{ws.minter.numeric(13)}/{ws.minter.token(24)}",
            workspace=ws,
            channel=channel,
            user=user,
            created=ws.now(),
            original=original,
        )
        self.by_id[hook.id] = hook
        return f"{self._root_url()}/response_url/{hook.id}"

    def find(self, url_or_id: str) -> Hook | None:
        return self.by_id.get(url_or_id.rsplit("/response_url/", 1)[-1])

    def apply(self, hook: Hook, body: JSON, *, source: str = "response_url") -> tuple[int, JSON]:
        """Carry out one response; `source="ack"` is the HTTP reply to a slash command, which uses up nothing."""
        ws = hook.workspace
        if source == "response_url":
            if hook.uses >= HOOK_USES:
                return 404, {"ok": False, "error": "used_url"}
            if ws.now() - hook.created > HOOK_TTL:
                return 404, {"ok": False, "error": "expired_url"}
            hook.uses += 1
        try:
            self._respond(hook, body, source)
        except ApiError as exc:
            return 400, exc.body()
        return 200, {"ok": True}

    def _respond(self, hook: Hook, body: JSON, source: str) -> None:
        ws = hook.workspace
        text = body.get("text") or ""
        blocks = body.get("blocks")
        if blocks is not None:
            check_blocks(blocks, limit=MESSAGE_BLOCKS, pointer="/blocks", error="invalid_blocks")
        original = hook.original
        if body.get("delete_original"):
            if isinstance(original, Message):
                ws.delete(ws.channel(hook.channel), original)
            elif isinstance(original, Ephemeral):
                original.deleted = True
            return
        if not text and not blocks:
            raise ApiError("no_text")
        if body.get("replace_original") and original is not None:
            original.text = text
            original.blocks = fill_ids(blocks, ws.minter.short_id) if blocks is not None else None
            if isinstance(original, Message):
                original.edited = {"user": ws.bot.user_id, "ts": ws.minter.ts()}
            return
        channel = ws.channel(hook.channel)
        thread_ts = body.get("thread_ts")
        if body.get("response_type") == "in_channel":
            bot = ws.user(ws.bot.user_id)
            hook.original = ws.post(channel, user=bot, text=text, blocks=blocks, thread_ts=thread_ts)
        else:
            hook.original = ws.post_ephemeral(
                channel, hook.user, text=text, blocks=blocks, thread_ts=thread_ts, source=source
            )
