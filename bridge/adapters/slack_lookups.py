"""What Slack says of people and channels, remembered a while per workspace (bridge.lookups): names and the user of
an email address for an hour, timezones for six; "nobody" for a minute, so someone who joins is found soon."""

from __future__ import annotations

from collections.abc import Callable

from bridge.adapters.slack_calls import SlackCalls
from bridge.errors import SlackError
from bridge.lookups import Lookups

ZONE_CACHE_SECONDS = 6 * 3600.0  # a person's timezone (users.info tz) is read again after this
NAME_SECONDS = 3600.0  # names, channels and the Slack user of an email address are read again after this
MISS_SECONDS = 60.0  # "no such user" is believed this long: a person who joins Slack is found within a minute


class SlackLookups:
    """Each answer is kept under its workspace: one id or address is a different person in each."""

    def __init__(self, call: SlackCalls, *, timer: Callable[[], float]) -> None:
        self._call = call
        self._names: Lookups[str, str] = Lookups(found_seconds=NAME_SECONDS, missing_seconds=MISS_SECONDS, timer=timer)
        self._people: Lookups[str, str] = Lookups(found_seconds=NAME_SECONDS, missing_seconds=MISS_SECONDS, timer=timer)
        self._zones: Lookups[str, str] = Lookups(
            found_seconds=ZONE_CACHE_SECONDS, missing_seconds=ZONE_CACHE_SECONDS, timer=timer
        )

    async def user_name(self, team: str | None, user_id: str) -> str:
        """A person's display name for attributions: names change rarely, replies come in bursts."""

        async def read() -> str:
            data = await self._call(team, "users.info", "users_info", user=user_id)
            user = data.get("user") or {}
            profile = user.get("profile") or {}
            return str(profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user_id)

        return await self._names.get_or_load(f"user:{team}:{user_id}", read) or user_id

    async def channel_name(self, team: str | None, channel: str) -> str:
        """A channel's name, for a mention Slack sent without one (`<#C…>`)."""

        async def read() -> str:
            data = await self._call(team, "conversations.info", "conversations_info", channel=channel)
            return str((data.get("channel") or {}).get("name") or channel)

        return await self._names.get_or_load(f"channel:{team}:{channel}", read) or channel

    async def user_timezone(self, team: str | None, user_id: str) -> str | None:
        """A person's timezone (users.info `tz`): people move, but seldom."""

        async def read() -> str | None:
            try:
                data = await self._call(team, "users.info", "users_info", user=user_id)
            except SlackError as exc:
                if exc.code != "user_not_found":
                    raise
                return None  # someone Slack does not know (any more): the team's timezone is used
            zone = (data.get("user") or {}).get("tz")
            return str(zone) if zone else None

        return await self._zones.get_or_load(f"{team}:{user_id}", read)

    async def user_by_email(self, team: str | None, email: str) -> str | None:
        """The Slack user with this email (a triager named in bridge.toml); None if nobody, for a minute only: someone
        who joins Slack later is found then, without a restart."""

        async def read() -> str | None:
            try:
                data = await self._call(team, "users.lookupByEmail", "users_lookupByEmail", email=email)
            except SlackError as exc:
                if exc.code != "users_not_found":
                    raise
                return None
            return str((data.get("user") or {}).get("id") or "") or None

        return await self._people.get_or_load(f"{team}:{email.lower()}", read)
