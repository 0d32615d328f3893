"""The routing pool's people as routing sees them: their Asana users and out-of-office entries (remembered a while,
bridge.lookups), their Slack timezones (the gateway reads them again after a while), their loads (from the
bridge's snapshots), names and Slack mentions."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta

from bridge.domain.business_time import clock_for
from bridge.domain.model import AsanaUserGid, Link
from bridge.domain.policy import Policy
from bridge.domain.routing import Candidate, in_hours
from bridge.domain.work import AsanaUser
from bridge.lookups import Lookups
from bridge.ports import AsanaPort, SlackTeams, TaskStore

log = logging.getLogger(__name__)

OOO_CACHE_SECONDS = 900.0  # out-of-office entries change rarely; read each person's again after this
OOO_LOOKAHEAD = timedelta(days=60)  # entries that far ahead are enough to say when someone is back
USER_SECONDS = 3600.0  # a pool member's Asana user (name, gid) is read again after this
UNKNOWN_USER_RETRY_SECONDS = 600.0  # "no Asana user for this email": asked again after this (they may be invited)

Ranges = tuple[tuple[date, date], ...]


class Pool:
    def __init__(
        self,
        *,
        store: TaskStore,
        asana: AsanaPort,
        slack: SlackTeams,
        timer: Callable[[], float] = time.monotonic,  # what the lookups' lifetimes are counted on (tests move it)
    ) -> None:
        self._store = store
        self._asana = asana
        self._slack = slack
        self._users: Lookups[tuple[str, str], AsanaUser] = Lookups(
            found_seconds=USER_SECONDS, missing_seconds=UNKNOWN_USER_RETRY_SECONDS, timer=timer
        )
        # By person and the day asked about: the entries read are those around that day.
        self._ooo: Lookups[tuple[str, date], Ranges] = Lookups(
            found_seconds=OOO_CACHE_SECONDS, missing_seconds=OOO_CACHE_SECONDS, timer=timer
        )

    async def candidates(
        self, link: Link, policy: Policy, loads: Mapping[AsanaUserGid | None, int], now: datetime
    ) -> tuple[list[Candidate], dict[str, AsanaUser | None]]:
        today = clock_for(policy.business_hours).local_date(now)
        users: dict[str, AsanaUser | None] = {}
        candidates = []
        for member in policy.routing.pool:
            user = users[member.email] = await self.user(member.email, link)
            if user is None:
                log.warning("routing: no Asana user for %s in workspace %s", member.email, link.workspace_gid)
                continue
            candidates.append(
                Candidate.of(
                    member,
                    open_tasks=loads.get(user.gid, 0),
                    out_of_office=await self.out(user.gid, link, today),
                    in_hours=in_hours(
                        member, policy.business_hours, now, timezone=await self.timezone(member.email, link)
                    ),
                )
            )
        return candidates, users

    async def user(self, email: str, link: Link) -> AsanaUser | None:
        return await self._users.get_or_load(
            (link.workspace_gid, email), lambda: self._asana.user_by_email(email, link.workspace_gid)
        )

    async def out(self, user_gid: AsanaUserGid, link: Link, today: date) -> Ranges:
        async def read() -> Ranges:
            start, end = today - timedelta(days=1), today + OOO_LOOKAHEAD
            return tuple(await self._asana.out_of_office(user_gid, link.workspace_gid, start=start, end=end))

        return await self._ooo.get_or_load((user_gid, today), read) or ()

    async def loads(self) -> dict[AsanaUserGid | None, int]:
        """Open tasks per assignee from the stored snapshots (for a click or /asana routing, not the tick)."""
        loads: Counter[AsanaUserGid | None] = Counter()
        async for page in self._store.tracked_task_pages(open_only=True):
            for tracked in page:
                if tracked.parent_gid is None and (assignee := tracked.snapshot.get("assignee")):
                    loads[AsanaUserGid(str(assignee.get("gid")))] += 1
        return dict(loads)

    async def name(self, email: str, link: Link) -> str:
        user = await self.user(email, link) if email else None
        return (user.name if user else None) or email

    def display(self, email: str, users: Mapping[str, AsanaUser | None]) -> str:
        user = users.get(email)
        return (user.name if user else None) or email

    async def timezone(self, email: str | None, link: Link) -> str | None:
        """Someone's own timezone from their Slack profile in the link's workspace (None: unknown, so the team's is
        used)."""
        slack = self._slack.for_team(link.team_id)
        user = await slack.user_by_email(email) if email else None
        return await slack.user_timezone(user) if user else None

    async def mention(self, email: str | None, link: Link) -> str | None:
        """<@U…> for someone the link's Slack workspace knows by this email (else None: the caller says their name)."""
        if not email:
            return None
        person = await self._slack.for_team(link.team_id).user_by_email(email)
        return f"<@{person}>" if person else None
