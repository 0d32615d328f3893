"""The index of resolved work: fed by what the relay already read (no Asana call of its own per event), and
backfilled a page at a time when a channel is linked (two reads per task, paced by the gateway's quota)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from bridge.domain.model import ChannelId, ProjectGid, TaskGid, TeamId, TrackedTask
from bridge.domain.suggest import Answer, Reply, with_replies
from bridge.domain.work import Story, Task, iso_moment
from bridge.lookups import Lookups
from bridge.ports import AnswerStore, Clock

log = logging.getLogger(__name__)

BACKFILL_PAGE = 50
# Whether a channel is private, read again after this: a public channel made private stops lending its answers
# to other channels within the hour (an answer is marked as the channel was when it was indexed).
PRIVACY_SECONDS = 3600.0
_NOISE = re.compile(r"https?://\S+|\[slack:[^\]]*\]|^From Slack:\s*$", re.MULTILINE)


class IndexAsana(Protocol):
    async def task(self, task_gid: str) -> Task: ...

    async def comments_of(self, task_gid: str) -> list[Story]: ...


class ChannelPrivacy(Protocol):
    async def is_private(self, channel: str) -> bool: ...


class WorkspacePrivacy(Protocol):
    """Slack as the index asks it, one workspace at a time (ports.SlackTeams)."""

    def for_team(self, team_id: str) -> ChannelPrivacy: ...


class AnswerIndex:
    def __init__(
        self,
        *,
        store: AnswerStore,
        asana: IndexAsana,
        slack: WorkspacePrivacy,
        clock: Clock,
        timer: Callable[[], float] = time.monotonic,  # what the lookups' lifetimes are counted on (tests move it)
    ) -> None:
        self._store = store
        self._asana = asana
        self._slack = slack
        self._clock = clock
        self._private: Lookups[ChannelId, bool] = Lookups(
            found_seconds=PRIVACY_SECONDS, missing_seconds=PRIVACY_SECONDS, timer=timer
        )

    async def saw(self, tracked: TrackedTask, *, task: Task | None, stories: Sequence[Story]) -> None:
        """What the relay read about a tracked task: its comments, and the task itself when it changed. A failure
        here is logged: the relay's post must not depend on the index."""
        if tracked.parent_gid is not None or (task is None and not stories):
            return  # subtasks are part of their parent's work
        try:
            current = await self._store.get_answer(tracked.task_gid)
            start = current if current is not None else await self._new(tracked, task)
            updated = with_replies(start, await self._replies(start, stories))
            if task is not None:
                updated = _as_in_asana(updated, task, now_if_unknown=self._clock.now())
            if updated != current:
                await self._store.save_answer(updated)
        except Exception:
            log.exception("could not index task %s", tracked.task_gid)

    async def replied(self, tracked: TrackedTask, *, text: str, by_asker: bool) -> None:
        """A reply in the task's Slack thread, as mirrored to Asana ("Name (in Slack): …")."""
        if tracked.parent_gid is not None:
            return
        try:
            current = await self._store.get_answer(tracked.task_gid) or await self._new(tracked, None)
            name = text.split(" (in Slack): ", 1)[0] if " (in Slack): " in text else ""
            updated = with_replies(current, [Reply(text=text, author_name=name, by_asker=by_asker)])
            if updated != current:
                await self._store.save_answer(updated)
        except Exception:
            log.exception("could not index a reply on task %s", tracked.task_gid)

    async def backfill(self, project_gid: ProjectGid) -> int:
        """Index the completed tracked tasks of a project that are not indexed yet, a page at a time; each costs a
        read of the task and of its comments, which wait their turn in the gateway's rate limiter like any call."""
        done = 0
        tried: set[TaskGid] = set()
        while True:
            page = [
                t
                for t in await self._store.resolved_unindexed(project_gid, limit=BACKFILL_PAGE)
                if t.task_gid not in tried
            ]
            if not page:
                log.info("indexed %d resolved tasks of project %s", done, project_gid)
                return done
            for tracked in page:
                tried.add(tracked.task_gid)
                task = await self._asana.task(tracked.task_gid)
                comments = await self._asana.comments_of(tracked.task_gid)
                fresh = await self._new(tracked, task)  # from all its comments, whatever was kept before
                answer = _as_in_asana(with_replies(fresh, await self._replies(fresh, comments)), task)
                await self._store.save_answer(answer)
                done += answer.resolved_at is not None

    async def _new(self, tracked: TrackedTask, task: Task | None) -> Answer:
        mapping = await self._store.get_user_mapping(tracked.team_id, tracked.requester) if tracked.requester else None
        return Answer(
            task_gid=tracked.task_gid,
            team_id=tracked.team_id,
            channel_id=tracked.channel_id,
            project_gids=(tracked.project_gid,),
            title=tracked.name,
            permalink_url=tracked.permalink_url,
            asked_at=tracked.created_at,
            asker=mapping.asana_user_gid if mapping else None,
            private=await self._is_private(tracked.team_id, tracked.channel_id),
        )

    async def _replies(self, answer: Answer, stories: Sequence[Story]) -> list[Reply]:
        return [
            Reply(
                text=s.text,
                author_name=s.author_name or "",
                by_asker=answer.asker is not None and s.author_gid == answer.asker,
            )
            for s in stories
            if s.subtype == "comment_added"
        ]

    async def _is_private(self, team_id: TeamId, channel: ChannelId) -> bool:
        try:
            slack = self._slack.for_team(team_id)
            private = await self._private.get_or_load(channel, lambda: slack.is_private(channel))
        except Exception as exc:  # unknown (and not remembered): treated as private, the safe side
            log.warning("could not tell whether %s is private: %s", channel, exc)
            return True
        return private is not False


def _as_in_asana(answer: Answer, task: Task, *, now_if_unknown: datetime | None = None) -> Answer:
    """Title, notes, projects and resolution as Asana has them now."""
    resolved = None
    if task.completed:
        resolved = iso_moment(task.raw.get("completed_at")) or answer.resolved_at or now_if_unknown
    return replace(
        answer,
        title=task.name or answer.title,
        notes=_NOISE.sub("", task.notes).strip(),
        project_gids=tuple(dict.fromkeys([*answer.project_gids, *task.project_gids])),
        permalink_url=task.permalink_url or answer.permalink_url,
        resolved_at=resolved,
    )
