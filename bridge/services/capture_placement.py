"""Where a captured task goes: its section, its priority option, and the combined projects it joins."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bridge.domain.model import (
    Link,
)
from bridge.domain.policy import PRIORITIES
from bridge.domain.work import Section, Task, starting_section
from bridge.errors import AsanaError
from bridge.lookups import Lookups
from bridge.ports import AsanaPort

log = logging.getLogger(__name__)

MAX_PROJECTS_PER_TASK = 20  # Asana's multi-homing limit
OPTIONS_CACHE_SECONDS = 600.0


class Placement:
    """Where a new task goes in Asana: its starting section, its priority's option, the combined projects it joins.
    A priority field's options by name and a project's sections are read again after a while (bridge.lookups)."""

    def __init__(self, *, asana: AsanaPort, timer: Callable[[], float]) -> None:
        self._asana = asana
        self._options: Lookups[str, dict[str, str]] = Lookups(
            found_seconds=OPTIONS_CACHE_SECONDS, missing_seconds=OPTIONS_CACHE_SECONDS, timer=timer
        )
        self._sections: Lookups[str, list[Section]] = Lookups(
            found_seconds=OPTIONS_CACHE_SECONDS, missing_seconds=OPTIONS_CACHE_SECONDS, timer=timer
        )

    async def section_for(self, link: Link, priority: str | None) -> str | None:
        """Where a new task starts (see starting_section); the project's sections are read once in a while."""
        if not priority:
            return link.triage_section_gid
        project = link.project_gid
        sections = await self._sections.get_or_load(project, lambda: self._asana.sections_of(project)) or []
        return starting_section(sections, triage_gid=link.triage_section_gid, priority=priority, priorities=PRIORITIES)

    async def add_to_combined(self, task: Task, link: Link, combined: tuple[str, ...]) -> None:
        wanted = [gid for gid in dict.fromkeys(combined) if gid != link.project_gid and gid not in task.project_gids]
        room = MAX_PROJECTS_PER_TASK - max(1, len(task.project_gids))
        if len(wanted) > room:
            log.warning(
                "task %s: %d combined projects configured but Asana allows %d projects per task; skipping %s",
                task.gid,
                len(wanted),
                MAX_PROJECTS_PER_TASK,
                ", ".join(wanted[room:]),
            )
            wanted = wanted[:room]
        for project_gid in wanted:
            try:
                await self._asana.add_to_project(task.gid, project_gid)
            except AsanaError as exc:
                # The task exists and is in its own project: a combined view missing it is worth a log, not a failure.
                log.warning("task %s not added to combined project %s: %s", task.gid, project_gid, exc)

    async def option(self, link: Link, priority: str) -> str | None:
        field_gid = link.priority_field_gid
        assert field_gid is not None

        async def read() -> dict[str, str]:
            for custom_field in await self._asana.custom_fields_of(link.project_gid):
                if custom_field.gid == field_gid:
                    return {o.name.strip().lower(): o.gid for o in custom_field.enum_options if o.enabled}
            return {}

        by_name = await self._options.get_or_load(field_gid, read) or {}
        return by_name.get(priority.strip().lower())
