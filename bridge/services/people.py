"""Slack user → Asana user, by email, cached in the store so that warm captures make no extra reads."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta

from bridge.adapters.errors import SlackError
from bridge.domain.model import AsanaUserGid, SlackUserId, TeamId, UserMapping, WorkspaceGid
from bridge.ports import AsanaPort, Clock, SlackPort, Store

log = logging.getLogger(__name__)

CACHE_LIFETIME = timedelta(hours=24)
# Someone without an Asana account may get one today: look again sooner.
NOT_FOUND_LIFETIME = timedelta(hours=1)
# Slack's answers for a person it will not show the bot: a Slack Connect guest of another organisation, a deactivated
# account. They are still people who wrote something: their words are captured, only their lookups come back empty.
UNSEEN = frozenset({"user_not_found", "user_not_visible", "users_not_found", "account_inactive_user"})
NAME_LOOKUP_SECONDS = 1.0  # names are a nicety: a slow users.info never holds up a capture (or the 3 s of a trigger)


class People:
    def __init__(self, *, store: Store, slack: SlackPort, asana: AsanaPort, clock: Clock) -> None:
        self._store = store
        self._slack = slack
        self._asana = asana
        self._clock = clock

    async def asana_user(self, team_id: TeamId, user_id: SlackUserId, workspace: WorkspaceGid) -> AsanaUserGid | None:
        """The Asana user of a Slack user, or None when their email matches nobody in the workspace."""
        now = self._clock.now()
        cached = await self._store.get_user_mapping(team_id, user_id)
        if cached is not None:
            lifetime = CACHE_LIFETIME if cached.asana_user_gid else NOT_FOUND_LIFETIME
            if now - cached.fetched_at < lifetime:
                return cached.asana_user_gid
        try:
            email = await self._slack.user_email(user_id)
        except SlackError as exc:
            if exc.code not in UNSEEN:
                raise
            log.info("Slack shows no profile of %s (%s): no Asana user for them", user_id, exc.code)
            email = None
        found = await self._asana.user_by_email(email, workspace) if email else None
        if found is not None and found.workspace_gids and workspace not in found.workspace_gids:
            found = None  # a user of another workspace cannot be assigned here
        gid = found.gid if found else None
        await self._store.save_user_mapping(
            UserMapping(team_id=team_id, slack_user_id=user_id, email=email, asana_user_gid=gid, fetched_at=now)
        )
        return gid

    async def names(self, user_ids: Iterable[str], channel_ids: Iterable[str] = ()) -> dict[str, str]:
        """The Slack display names of these people (and the names of these channels), as far as Slack tells them in
        time; the others are left out."""
        wanted: list[tuple[str, Callable[[str], Awaitable[str]]]]
        wanted = [(key, self._slack.user_name) for key in dict.fromkeys(user_ids)]
        wanted += [(key, self._slack.channel_name) for key in dict.fromkeys(channel_ids)]
        if not wanted:
            return {}
        lookups = [asyncio.ensure_future(lookup(key)) for key, lookup in wanted]
        done, pending = await asyncio.wait(lookups, timeout=NAME_LOOKUP_SECONDS)
        for lookup in pending:
            lookup.cancel()
        names: dict[str, str] = {}
        for (key, _), lookup in zip(wanted, lookups, strict=True):
            if lookup in done and lookup.exception() is None and lookup.result() != key:
                names[key] = lookup.result()
            elif lookup in done:
                log.info("no Slack name for %s: %s", key, lookup.exception() or "none given")
        return names
