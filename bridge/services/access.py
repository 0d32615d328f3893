"""Who may act on a linked project's tasks from Slack, as Asana would let them (domain.access decides).

What it reads is kept a while (bridge.lookups): a project's privacy, team and members and a team's members for ten
minutes, whether someone is a guest for an hour. Someone refused on answers older than a minute is judged again on
fresh ones, in case they were just added. A project Asana no longer shows the bridge has no members and is private.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bridge.domain.access import Privacy, ProjectAccess, Refusal, needs, refusal
from bridge.domain.model import AsanaUserGid, ProjectGid, WorkspaceGid
from bridge.errors import AsanaForbidden, AsanaNotFound
from bridge.lookups import Lookups
from bridge.ports import AsanaPort

log = logging.getLogger(__name__)

PROJECT_CACHE_SECONDS = 600.0  # privacy, team and members change rarely
GUEST_CACHE_SECONDS = 3600.0
RECHECK_AFTER = 60.0
_NONE = ProjectAccess(privacy=Privacy.PRIVATE, members=frozenset())


class Access:
    def __init__(self, *, asana: AsanaPort, timer: Callable[[], float] = time.monotonic) -> None:
        self._asana = asana
        # Every read gives an answer (a project Asana hides is _NONE), so the "missing" lifetime is never used.
        self._projects: Lookups[str, ProjectAccess] = Lookups(
            found_seconds=PROJECT_CACHE_SECONDS, missing_seconds=0.0, timer=timer
        )
        self._teams: Lookups[str, frozenset[AsanaUserGid]] = Lookups(
            found_seconds=PROJECT_CACHE_SECONDS, missing_seconds=0.0, timer=timer
        )
        self._guests: Lookups[tuple[str, str], bool] = Lookups(
            found_seconds=GUEST_CACHE_SECONDS, missing_seconds=0.0, timer=timer
        )

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

        return await self._projects.get_or_load(project, read, max_age=younger_than) or _NONE

    async def _judge(
        self, project: ProjectGid, workspace: WorkspaceGid, user: AsanaUserGid, younger_than: float
    ) -> Refusal | None:
        access = await self.project(project, younger_than=younger_than)
        wanted = needs(access, user)
        if wanted == "guest":
            guest = await self._guests.get_or_load((user, workspace), lambda: self._asana.is_guest(user, workspace))
            return refusal(access, user, guest=guest)
        if wanted == "team" and access.team_gid:
            team = access.team_gid

            async def members() -> frozenset[AsanaUserGid]:
                return frozenset(await self._asana.team_members(team))

            team_members = await self._teams.get_or_load(team, members, max_age=younger_than) or frozenset()
            return refusal(access, user, team_members=team_members)
        return refusal(access, user)
