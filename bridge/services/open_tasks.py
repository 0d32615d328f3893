"""The open top-level tasks as the nag rules see them (TaskView), per link, kept between ticks for routing.

Routing weighs loads and picks candidates over every open task, so this is read whole (in small pages) now and then
and otherwise only what was saved since the last look. Only the leading scheduler keeps it, and only when a link
routes: the nag scheduler itself reads the tasks whose moment has come (services.nags).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bridge.domain.model import Link, TaskGid, TrackedTask
from bridge.domain.nags import TaskView, task_view
from bridge.domain.policy import Policy
from bridge.ports import Clock, LinkReads, TaskStore

Home = tuple[str, str]  # (project gid, channel id) of a link
FULL_RELOAD = timedelta(minutes=10)  # now and then read everything again, in case anything slipped past
CLOCK_MARGIN = timedelta(seconds=30)
RELOAD_PAGE = 200  # tracked tasks per read on a full reload (a few milliseconds of the loop each)


class OpenTaskReads(LinkReads, TaskStore, Protocol):
    """What the open tasks are read from: the links, and the tracked tasks (all of them, then what changed)."""


class OpenTasks:
    def __init__(self, *, store: OpenTaskReads, clock: Clock, policy: Policy) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy
        self._memory: _Memory | None = None

    def forget(self) -> None:
        self._memory = None

    async def views(self) -> dict[Home, list[TaskView]]:
        links: dict[Home, Link] = {(link.project_gid, link.channel_id): link for link in await self._store.list_links()}

        def fields_of(tracked: TrackedTask) -> tuple[str, tuple[str, ...]]:
            link = links.get((tracked.project_gid, tracked.channel_id))
            policy = self._policy.for_project(tracked.project_gid)
            priority = (link.priority_field_gid if link else None) or policy.triage.priority_field
            return priority, policy.reminders.required_fields

        memory = self._memory
        moment = self._clock.now()
        if memory is None or moment - memory.loaded_at > FULL_RELOAD:
            memory = self._memory = _Memory(loaded_at=moment, seen_at=moment)
            # Small pages: each is read, decoded and kept between two turns of the loop.
            async for page in self._store.tracked_task_pages(open_only=True, size=RELOAD_PAGE):
                memory.keep(page, fields_of)
        else:
            # Saves on other replicas may carry a clock a little behind ours: look back a margin, keeping is
            # idempotent.
            changed = await self._store.tracked_tasks(changed_since=memory.seen_at - CLOCK_MARGIN)
            memory.seen_at = moment
            memory.keep(changed, fields_of)
        return {home: [memory.views[gid] for gid in gids] for home, gids in memory.by_link.items()}


@dataclass
class _Memory:
    """Each open task as the rules see it (not its whole snapshot: a router reads the tracked task again to act)."""

    loaded_at: datetime
    seen_at: datetime
    views: dict[TaskGid, TaskView] = field(default_factory=dict)  # open top-level tasks
    _by_link: dict[Home, list[TaskGid]] | None = None  # made again after tasks come or go
    _homes: dict[TaskGid, Home] = field(default_factory=dict)  # (project, channel) of each task

    def keep(
        self, tasks: Sequence[TrackedTask], fields_of: Callable[[TrackedTask], tuple[str, tuple[str, ...]]]
    ) -> None:
        if not tasks:
            return
        for tracked in tasks:
            gid = tracked.task_gid
            self.views.pop(gid, None)
            self._homes.pop(gid, None)
            if tracked.completed or tracked.parent_gid is not None:
                continue
            priority_field, required = fields_of(tracked)
            self.views[gid] = task_view(tracked, priority_field=priority_field, required_fields=required)
            self._homes[gid] = (tracked.project_gid, tracked.channel_id)
        self._by_link = None

    @property
    def by_link(self) -> dict[Home, list[TaskGid]]:
        if self._by_link is None:
            self._by_link = {}
            for gid, home in self._homes.items():
                self._by_link.setdefault(home, []).append(gid)
        return self._by_link
