"""The routing pool's people as routing sees them: their Asana users (read once per process), their out-of-office
entries (read again after OOO_CACHE_SECONDS), their Slack timezones (the gateway reads them again after a while),
their loads (from the bridge's snapshots), names and Slack mentions."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from bridge.domain.business_time import clock_for
from bridge.domain.model import AsanaUserGid, Link
from bridge.domain.policy import Policy
from bridge.domain.routing import Candidate, in_hours
from bridge.domain.work import AsanaUser
from bridge.ports import AsanaPort, SlackPort, TaskStore

log = logging.getLogger(__name__)

OOO_CACHE_SECONDS = 900.0  # out-of-office entries change rarely; read each person's again after this
OOO_LOOKAHEAD = timedelta(days=60)  # entries that far ahead are enough to say when someone is back
UNKNOWN_USER_RETRY_SECONDS = 600.0


class Pool:
    def __init__(self, *, store: TaskStore, asana: AsanaPort, slack: SlackPort) -> None:
        self._store = store
        self._asana = asana
        self._slack = slack
        self._users: dict[str, tuple[float, AsanaUser | None]] = {}
        # By person and the day asked about: the entries read are those around that day.
        self._ooo: dict[tuple[str, date], tuple[float, tuple[tuple[date, date], ...]]] = {}

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
                    in_hours=in_hours(member, policy.business_hours, now, timezone=await self.timezone(member.email)),
                )
            )
        return candidates, users

    async def user(self, email: str, link: Link) -> AsanaUser | None:
        known = self._users.get(email)
        if known is not None and (known[1] is not None or time.monotonic() - known[0] < UNKNOWN_USER_RETRY_SECONDS):
            return known[1]
        user = await self._asana.user_by_email(email, link.workspace_gid)
        self._users[email] = (time.monotonic(), user)
        return user

    async def out(self, user_gid: AsanaUserGid, link: Link, today: date) -> tuple[tuple[date, date], ...]:
        known = self._ooo.get((user_gid, today))
        if known is None or time.monotonic() - known[0] > OOO_CACHE_SECONDS:
            ranges = await self._asana.out_of_office(
                user_gid, link.workspace_gid, start=today - timedelta(days=1), end=today + OOO_LOOKAHEAD
            )
            if len(self._ooo) > 10_000:
                self._ooo.clear()
            known = self._ooo[(user_gid, today)] = (time.monotonic(), tuple(ranges))
        return known[1]

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

    async def timezone(self, email: str | None) -> str | None:
        """Someone's own timezone from their Slack profile (None: unknown, so the team's is used)."""
        user = await self._slack.user_by_email(email) if email else None
        return await self._slack.user_timezone(user) if user else None

    async def mention(self, email: str | None) -> str | None:
        """<@U…> for someone Slack knows by this email (else None: the caller says their name)."""
        if not email:
            return None
        person = await self._slack.user_by_email(email)
        return f"<@{person}>" if person else None
