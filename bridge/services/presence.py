"""Whether the bridge may @mention someone now (domain.presence decides), from what Slack and Asana say of them:
their Slack timezone (users.info `tz`, cached by the gateway), their routing pool `hours`, their Asana out-of-office
entries (cached by the pool). Used for every mention the bridge makes on its own: nags and routing's lines."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import NamedTuple

from bridge.domain.business_time import clock_for
from bridge.domain.model import AsanaUserGid, Link
from bridge.domain.policy import Policy, PoolMember
from bridge.domain.presence import Person, mention_at
from bridge.ports import SlackTeams
from bridge.services.pool import Pool

log = logging.getLogger(__name__)
RETRY_MEMO = 10_000  # mentions waiting at once before the ones whose time came are forgotten


class Who(NamedTuple):
    """Someone the bridge is about to mention, by any of the ids it has for them."""

    slack_user: str | None = None
    email: str | None = None
    asana_user: AsanaUserGid | None = None


class Presence:
    def __init__(self, *, slack: SlackTeams, pool: Pool) -> None:
        self._slack = slack
        self.pool = pool
        self._retry: dict[str, datetime] = {}  # mention key -> when to ask again (not before)

    async def may_mention(self, key: str, link: Link, policy: Policy, now: datetime, who: Who) -> bool:
        """Whether the mention `key` (a nag, a ping) may go out now; if not, it is not asked about again (no
        lookups) until the person's hours open. The caller leaves it due and asks again on a later tick."""
        retry = self._retry.get(key)
        if retry is not None and retry > now:
            return False
        at = await self.mention_at(link, policy, now, who)
        if at <= now:
            self._retry.pop(key, None)
            return True
        if len(self._retry) >= RETRY_MEMO:
            self._retry = {k: t for k, t in self._retry.items() if t > now}
        self._retry[key] = at
        log.info("%s waits for its person's working hours, until %s", key, at.isoformat())
        return False

    async def mention_at(self, link: Link, policy: Policy, now: datetime, who: Who) -> datetime:
        """`now` when the person may be mentioned now, else when to try again. What is not known of them falls
        back to the team's calendar."""
        slack_user, email, asana_user = who
        member = await self._member(link, policy, email=email, asana_user=asana_user)
        if member is not None:
            email = member.email
        if asana_user is None and email:
            user = await self.pool.user(email, link)
            asana_user = user.gid if user else None
        today = clock_for(policy.business_hours).local_date(now)
        person = Person(
            timezone=await self._slack.for_team(link.team_id).user_timezone(slack_user)
            if slack_user
            else await self.pool.timezone(email, link),
            hours=member.hours if member else None,
            out_of_office=await self.pool.out(asana_user, link, today) if asana_user else (),
        )
        return mention_at(policy.business_hours, person, now)

    async def _member(
        self, link: Link, policy: Policy, *, email: str | None, asana_user: AsanaUserGid | None
    ) -> PoolMember | None:
        """The pool entry of this person (by email, or by the Asana user the pool's emails stand for)."""
        for member in policy.routing.pool:
            if email and member.email.casefold() == email.casefold():
                return member
        if asana_user is not None:
            for member in policy.routing.pool:
                user = await self.pool.user(member.email, link)
                if user is not None and user.gid == asana_user:
                    return member
        return None
