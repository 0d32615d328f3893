"""The log of nags posted and the index of tasks waiting to be judged."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from bridge.domain.model import (
    Arm,
    MessageTs,
    NagKey,
    SlackUserId,
    TaskGid,
    TaskToJudge,
)
from bridge.domain.nag_clicks import PostedNag


class NagLog(Protocol):
    """Nags sent, and who acted on each (so no nag is sent twice, no button acts twice)."""

    async def record_nag(self, key: NagKey, *, now: datetime, message_ts: MessageTs | None = None) -> bool:
        """True if this nag was not sent before (and is now recorded), False if it was."""
        ...

    async def sent_nags(self, task_gids: Collection[TaskGid]) -> set[NagKey]: ...

    async def posted_nag(self, task_gid: TaskGid, message_ts: MessageTs) -> PostedNag | None:
        """The nag of this task posted as this message, with who acted on it (if anyone did)."""
        ...

    async def claim_nag(
        self, task_gid: TaskGid, message_ts: MessageTs, *, by: SlackUserId, outcome: str, now: datetime
    ) -> str | None:
        """Record that `by` acted on the nag posted as `message_ts`, if nobody did yet; None when this call did,
        else the outcome recorded first (compare-and-set: of two clicks at once, one wins). A message the log has
        no row for (a DM copy of a nag) gets a row of its own, so it is claimed once too."""
        ...

    async def release_nag(self, task_gid: TaskGid, message_ts: MessageTs, *, by: SlackUserId) -> None:
        """Undo `by`'s claim when the change failed, so that the nag can be acted on again."""
        ...


class NagIndex(Protocol):
    """The nag scheduler's index: when each task's nags can next change (a save of a task arms it at once)."""

    async def tasks_to_judge(
        self, *, now: datetime, after: tuple[datetime, str] | None = None, limit: int = 200
    ) -> list[TaskToJudge]:
        """Open tasks whose moment is at or before `now`, earliest first, `limit` at a time after (moment, gid)."""
        ...

    async def arm_tasks(self, arms: Sequence[Arm]) -> None:
        """Set each task's next moment, unless it was saved since its revision was read."""
        ...

    async def nag_fingerprints(self) -> dict[tuple[str, str], str]:
        """Per link (project, channel): the digest of its nag rules when its tasks were last armed."""
        ...

    async def rearm_link(self, project_gid: str, channel_id: str, fingerprint: str | None) -> None:
        """Judge every open task of the link at the next tick; remember the digest (None: forget the link's)."""
        ...
