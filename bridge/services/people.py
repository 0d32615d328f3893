"""Slack user ⇄ Asana user, by email, cached in the store so that warm captures and mentions make no extra reads."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta

from bridge.domain.model import AsanaUserGid, SlackUserId, TeamId, UserMapping, WorkspaceGid
from bridge.errors import SlackError
from bridge.lookups import Lookups
from bridge.ports import AsanaPort, Clock, SlackTeams, UserMappings

log = logging.getLogger(__name__)

CACHE_LIFETIME = timedelta(hours=24)
# Someone without an Asana account may get one today: look again sooner.
NOT_FOUND_LIFETIME = timedelta(hours=1)
# An Asana user nobody in the Slack workspace matches (by email): asked again after this, so someone who joins
# Slack is mentioned within minutes. Remembered in memory only (bridge.lookups), at most NOT_IN_SLACK_KEPT of them.
NOT_IN_SLACK_SECONDS = 600.0
NOT_IN_SLACK_KEPT = 10_000
# Slack's answers for a person it will not show the bot: a Slack Connect guest of another organisation, a deactivated
# account. They are still people who wrote something: their words are captured, only their lookups come back empty.
UNSEEN = frozenset({"user_not_found", "user_not_visible", "users_not_found", "account_inactive_user"})
# A person's Asana user is also remembered in memory this long (the store stays what replicas share): a burst of
# captures for the same few people then reads the store once a person, and looks each person up once, not once a
# capture (each a users.info and an Asana call, and a trip to the database's thread past a busy loop).
IN_MEMORY_SECONDS = 300.0
NAME_LOOKUP_SECONDS = 1.0  # names are a nicety: a slow users.info never holds up a capture (or the 3 s of a trigger)


class People:
    def __init__(self, *, store: UserMappings, slack: SlackTeams, asana: AsanaPort, clock: Clock) -> None:
        self._store = store
        self._slack = slack
        self._asana = asana
        self._clock = clock
        # Only misses are kept here (a found person is in the store); counted on the clock, so tests move it.
        self._not_in_slack: Lookups[tuple[TeamId, AsanaUserGid], SlackUserId] = Lookups(
            found_seconds=0.0,
            missing_seconds=NOT_IN_SLACK_SECONDS,
            maxsize=NOT_IN_SLACK_KEPT,
            timer=lambda: clock.now().timestamp(),
        )
        self._asana_users: Lookups[tuple[TeamId, SlackUserId], AsanaUserGid] = Lookups(
            found_seconds=IN_MEMORY_SECONDS,
            missing_seconds=IN_MEMORY_SECONDS,
            timer=lambda: clock.now().timestamp(),
        )

    async def asana_user(self, team_id: TeamId, user_id: SlackUserId, workspace: WorkspaceGid) -> AsanaUserGid | None:
        """The Asana user of a Slack user, or None when their email matches nobody in the workspace."""
        return await self._asana_users.get_or_load(
            (team_id, user_id), lambda: self._asana_user(team_id, user_id, workspace)
        )

    async def _asana_user(self, team_id: TeamId, user_id: SlackUserId, workspace: WorkspaceGid) -> AsanaUserGid | None:
        now = self._clock.now()
        cached = await self._store.get_user_mapping(team_id, user_id)
        if cached is not None:
            lifetime = CACHE_LIFETIME if cached.asana_user_gid else NOT_FOUND_LIFETIME
            if now - cached.fetched_at < lifetime:
                return cached.asana_user_gid
        try:
            email = await self._slack.for_team(team_id).user_email(user_id)
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

    async def names(self, team_id: TeamId, user_ids: Iterable[str], channel_ids: Iterable[str] = ()) -> dict[str, str]:
        """The Slack display names of these people (and the names of these channels) in workspace `team_id`, as far
        as Slack tells them in time; the others are left out."""
        slack = self._slack.for_team(team_id)
        wanted: list[tuple[str, Callable[[str], Awaitable[str]]]]
        wanted = [(key, slack.user_name) for key in dict.fromkeys(user_ids)]
        wanted += [(key, slack.channel_name) for key in dict.fromkeys(channel_ids)]
        if not wanted:
            return {}
        if len(wanted) == 1:  # the author of a /task, most often: one lookup needs no task of its own
            return await self._one_name(*wanted[0])
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

    async def _one_name(self, key: str, lookup: Callable[[str], Awaitable[str]]) -> dict[str, str]:
        try:
            async with asyncio.timeout(NAME_LOOKUP_SECONDS):
                name = await lookup(key)
        except TimeoutError:
            return {}  # as for several names: a lookup still running at the timeout is left out unsaid
        except Exception as exc:  # Slack's refusal: the capture goes on without the name
            log.info("no Slack name for %s: %s", key, exc)
            return {}
        if name == key:
            log.info("no Slack name for %s: none given", key)
            return {}
        return {key: name}

    async def slack_user(
        self, team_id: TeamId, asana_user_gid: AsanaUserGid, workspace: WorkspaceGid
    ) -> SlackUserId | None:
        """The Slack user of an Asana user (to @mention them), by the email of their Asana account; None when
        they are not in this Slack workspace (asked again after NOT_IN_SLACK_SECONDS, in case they join)."""
        known = await self._store.slack_user_for(team_id, asana_user_gid)
        if known is not None:
            return known
        now = self._clock.now()
        if self._not_in_slack.known((team_id, asana_user_gid)):
            return None
        user = await self._asana.user_by_email(asana_user_gid, workspace)  # Asana takes a gid where it takes an email
        found = (
            await self._slack.for_team(team_id).user_by_email(user.email) if user is not None and user.email else None
        )
        if found is None:
            self._not_in_slack.put((team_id, asana_user_gid), None)
            return None
        slack_user = SlackUserId(found)
        await self._store.save_user_mapping(
            UserMapping(
                team_id=team_id,
                slack_user_id=slack_user,
                email=user.email if user else None,
                asana_user_gid=asana_user_gid,
                fetched_at=now,
            )
        )
        self._asana_users.put((team_id, slack_user), asana_user_gid)  # what asana_user now reads from the store
        return slack_user
