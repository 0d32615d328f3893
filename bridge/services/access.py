"""Who may act on a linked project's tasks from Slack, as Asana would let them (domain.access decides).

What it reads is kept a while: a project's privacy, team and members and a team's members for ten minutes, whether
someone is a guest for an hour. Someone refused on answers older than a minute is judged again on fresh ones, in
case they were just added. A project Asana no longer shows the bridge has no members and is private.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bridge.adapters.errors import AsanaForbidden, AsanaNotFound
from bridge.domain.access import Privacy, ProjectAccess, Refusal, needs, refusal
from bridge.domain.model import AsanaUserGid, ProjectGid, WorkspaceGid
from bridge.ports import AsanaPort

log = logging.getLogger(__name__)
K = TypeVar("K")
V = TypeVar("V")

PROJECT_CACHE_SECONDS = 600.0  # privacy, team and members change rarely
GUEST_CACHE_SECONDS = 3600.0
RECHECK_AFTER = 60.0
_NONE = ProjectAccess(privacy=Privacy.PRIVATE, members=frozenset())


class Access:
    def __init__(self, *, asana: AsanaPort) -> None:
        self._asana = asana
        self._projects: dict[str, tuple[float, ProjectAccess]] = {}
        self._teams: dict[str, tuple[float, frozenset[AsanaUserGid]]] = {}
        self._guests: dict[tuple[str, str], tuple[float, bool]] = {}

    async def refusal(self, project: ProjectGid, workspace: WorkspaceGid, user: AsanaUserGid) -> Refusal | None:
        """None when Asana lets `user` change the project's tasks; otherwise why not (judged again on fresh reads
        when the answers were older than a minute)."""
        found = await self._judge(project, workspace, user, PROJECT_CACHE_SECONDS)
        if found is None:
            return None
        return await self._judge(project, workspace, user, RECHECK_AFTER)

    async def project(self, project: ProjectGid, *, younger_than: float = PROJECT_CACHE_SECONDS) -> ProjectAccess:
        async def read() -> ProjectAccess:
            try:
                return await self._asana.project_access(project)
            except (AsanaNotFound, AsanaForbidden) as exc:
                log.warning("cannot read who may see project %s: %s", project, exc)
                return _NONE

        return await _cached(self._projects, project, read, younger_than)

    async def _judge(
        self, project: ProjectGid, workspace: WorkspaceGid, user: AsanaUserGid, younger_than: float
    ) -> Refusal | None:
        access = await self.project(project, younger_than=younger_than)
        wanted = needs(access, user)
        if wanted == "guest":
            guest = await _cached(
                self._guests, (user, workspace), lambda: self._asana.is_guest(user, workspace), GUEST_CACHE_SECONDS
            )
            return refusal(access, user, guest=guest)
        if wanted == "team" and access.team_gid:
            team = access.team_gid

            async def members() -> frozenset[AsanaUserGid]:
                return frozenset(await self._asana.team_members(team))

            team_members: frozenset[AsanaUserGid] = await _cached(self._teams, team, members, younger_than)
            return refusal(access, user, team_members=team_members)
        return refusal(access, user)


async def _cached(table: dict[K, tuple[float, V]], key: K, read: Callable[[], Awaitable[V]], younger_than: float) -> V:
    found = table.get(key)
    if found is not None and time.monotonic() - found[0] < younger_than:
        return found[1]
    value = await read()
    table[key] = (time.monotonic(), value)
    return value
