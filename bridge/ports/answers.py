"""The index of resolved work and the deflections suggestions made."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bridge.domain.model import (
    ChannelId,
    Link,
    ProjectGid,
    SlackUserId,
    TaskGid,
    TeamId,
    TrackedTask,
    UserMapping,
)
from bridge.domain.suggest import Answer, Deflection, Match, Outcome, Scope


class AnswerStore(Protocol):
    """The index of resolved work and the deflections suggestions made (issue 22): what the suggestion service
    needs, beside the few tracked-task and mapping reads it shares with the others."""

    async def get_answer(self, task_gid: TaskGid) -> Answer | None: ...

    async def save_answer(self, answer: Answer) -> None:
        """Keep it; its full-text index row is written (resolved) or removed (open) in the same transaction."""
        ...

    async def search_answers(self, words: Sequence[str], scope: Scope, *, limit: int) -> list[Match]: ...

    async def resolved_unindexed(self, project_gid: ProjectGid, *, limit: int) -> list[TrackedTask]: ...

    async def add_deflection(self, deflection: Deflection) -> bool: ...

    async def set_deflection_message(self, task_gid: TaskGid, message_ts: str) -> None: ...

    async def get_deflection(self, task_gid: TaskGid) -> Deflection | None: ...

    async def decide_deflection(
        self, task_gid: TaskGid, outcome: Outcome, *, at: datetime, by: SlackUserId
    ) -> bool: ...

    async def deflections_since(self, since: datetime, *, team_id: TeamId | None = None) -> list[Deflection]: ...

    async def get_tracked_task(self, task_gid: TaskGid) -> TrackedTask | None: ...

    async def save_tracked_task(self, task: TrackedTask) -> None: ...

    async def get_link(self, team_id: TeamId, channel_id: ChannelId) -> Link | None: ...

    async def get_user_mapping(self, team_id: TeamId, slack_user_id: SlackUserId) -> UserMapping | None: ...
