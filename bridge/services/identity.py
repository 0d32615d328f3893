"""People connect their own Asana account, and every action from Slack asks here which Asana to act through.

`for_person` is the one place that chooses: a connected person's own token (refreshed first when it is about to
end, by one replica at a time), else the bridge's user on their behalf (offering once, in a DM, to connect), or a
refusal with the connect link when `[identity] require_connected` is on for the project. A refresh Asana refuses
(revoked, or the app removed) forgets the connection and tells the person privately.

Connecting (authorization code grant with PKCE; reference/asana.md §8): `connect_url` keeps a pending connect under
the digest of a new single-use state, bound to the Slack user and workspace; `finish` takes it back (deleting it),
exchanges the code, checks the account is in the bridge's workspace, and keeps the tokens sealed. Nothing is kept
for a bad return (replayed, expired or foreign state, no code, a refused code, Asana's error, another workspace),
and no token is ever logged.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from bridge import wording
from bridge.domain.identity import (
    REFRESH_BEFORE,
    REFRESH_LEASE,
    Connection,
    challenge,
    digest,
    new_state,
    new_verifier,
    pending,
)
from bridge.domain.model import Link, SlackUserId, TeamId
from bridge.domain.policy import Policy
from bridge.errors import AsanaError, AsanaUnavailable, OAuthRefused, SlackError
from bridge.ports import AsanaOAuthPort, BridgeAsana, Clock, IdentityStore, SlackTeams
from bridge.services.acting import Acting, PersonAsana
from bridge.services.errors import UserError

log = logging.getLogger(__name__)
_ERROR_CODE = re.compile(r"[a-z_]{1,40}")  # Asana's error codes; anything else from the query is not shown


@dataclass(frozen=True)
class Finished:
    """How a return from Asana's consent page ended: the page to show says so."""

    connected: bool
    asana_name: str = ""
    reason: str = ""


class Identities:
    def __init__(
        self,
        *,
        store: IdentityStore,
        oauth: AsanaOAuthPort | None,
        asana: BridgeAsana,
        slack: SlackTeams,
        clock: Clock,
        policy: Policy,
        workspace_gid: Callable[[], str | None],
        bridge_user: Callable[[], str | None],
    ) -> None:
        self._store = store
        self._oauth = oauth
        self._asana = asana
        self._slack = slack
        self._clock = clock
        self._policy = policy
        self._workspace_gid = workspace_gid
        self._bridge_user = bridge_user
        self._offered: set[tuple[TeamId, SlackUserId]] = set()

    @property
    def configured(self) -> bool:
        return self._oauth is not None

    # ---- choosing the Asana an action goes through

    async def for_person(self, team_id: TeamId, user: SlackUserId, link: Link | None) -> Acting:
        """The Asana to act through for `user` (on `link`'s project, when the action has one)."""
        connection = await self._store.get_connection(team_id, user) if self._oauth is not None else None
        if connection is not None:
            connection = await self._fresh(connection)
        if connection is not None:
            person = self._asana.acting_as(connection.access_token)
            return Acting(
                PersonAsana(
                    person,
                    store=self._store,
                    clock=self._clock,
                    project_name=link.project_name if link else None,
                    bridge_user=self._bridge_user,
                ),
                as_person=True,
            )
        policy = self._policy.for_project(link.project_gid) if link else self._policy
        if self._oauth is not None and policy.identity.require_connected:
            raise UserError(wording.connect_required(await self.connect_url(team_id, user)))
        if self._oauth is not None and (team_id, user) not in self._offered:
            # Once per person across replicas (the database says who heard it); this process asks once per person.
            self._offered.add((team_id, user))
            if await self._store.offer_connect_once(team_id, user, now=self._clock.now()):
                await self._offer(team_id, user)
        return Acting(
            self._asana,
            as_person=False,
            on_behalf_of=wording.on_behalf_of(await self._slack.for_team(team_id).user_name(user)),
        )

    async def _offer(self, team_id: TeamId, user: SlackUserId) -> None:
        text, offer = wording.connect_offer(await self.connect_url(team_id, user))
        try:
            await self._slack.for_team(team_id).post_message(user, text, blocks=offer)
        except SlackError as exc:
            log.warning("could not offer %s to connect Asana: %s", user, exc)

    async def _fresh(self, connection: Connection) -> Connection | None:
        """The connection with an access token good for a while yet; None when Asana refused to renew it."""
        assert self._oauth is not None
        now = self._clock.now()
        if not connection.needs_refresh(now):
            return connection
        team_id, user = connection.team_id, connection.slack_user_id
        claimed = await self._store.claim_refresh(
            team_id, user, now=now, due_before=now + REFRESH_BEFORE, until=now + REFRESH_LEASE
        )
        if claimed is None:
            return await self._refreshed_elsewhere(connection)
        try:
            grant = await self._oauth.refresh(claimed.refresh_token)
        except OAuthRefused as exc:
            await self._store.delete_connection(team_id, user)
            log.info("Asana refused to renew the connection of %s (%s): forgotten", user, exc.code)
            await self._tell(team_id, user, wording.CONNECTION_DROPPED)
            return None
        except BaseException:
            await self._store.release_refresh(team_id, user)
            raise
        expires_at = self._clock.now() + timedelta(seconds=grant.expires_in)
        await self._store.finish_refresh(team_id, user, access_token=grant.access_token, expires_at=expires_at)
        log.info("renewed the Asana connection of %s", user)
        return replace(claimed, access_token=grant.access_token, expires_at=expires_at)

    async def _refreshed_elsewhere(self, connection: Connection, wait: float = 10.0) -> Connection | None:
        """Another replica (or task) is renewing the token: wait for its result instead of asking Asana again."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while loop.time() < deadline:
            await asyncio.sleep(0.1)
            found = await self._store.get_connection(connection.team_id, connection.slack_user_id)
            if found is None or not found.needs_refresh(self._clock.now()):
                return found
        if self._clock.now() < connection.expires_at:
            return connection  # still valid for a few minutes
        raise AsanaUnavailable("the renewal of an Asana connection is taking too long", sent=False)

    async def _tell(self, team_id: TeamId, user: SlackUserId, text: str) -> None:
        try:
            await self._slack.for_team(team_id).post_message(user, text)
        except SlackError as exc:
            log.warning("could not tell %s about their Asana connection: %s", user, exc)

    # ---- connecting and disconnecting

    async def connect_url(self, team_id: TeamId, user: SlackUserId) -> str:
        """A link to Asana's consent page that works once, for this person, for a few minutes."""
        if self._oauth is None:
            raise UserError(wording.CONNECT_NOT_SET_UP)
        state, verifier = new_state(), new_verifier()
        now = self._clock.now()
        await self._store.save_pending_connect(pending(state, team_id, user, verifier, now=now), now=now)
        return self._oauth.authorize_url(state=state, code_challenge=challenge(verifier))

    async def connect(self, team_id: TeamId, user: SlackUserId) -> tuple[str, wording.Blocks]:
        """The answer to /asana connect."""
        existing = await self._store.get_connection(team_id, user) if self._oauth is not None else None
        if existing is not None:
            return wording.already_connected(existing.asana_name), []
        return wording.connect_prompt(await self.connect_url(team_id, user))

    async def connected_as(self, team_id: TeamId, user: SlackUserId) -> str | None:
        connection = await self._store.get_connection(team_id, user) if self._oauth is not None else None
        return connection.asana_name if connection is not None else None

    async def disconnect(self, team_id: TeamId, user: SlackUserId) -> str:
        if self._oauth is None:
            return wording.CONNECT_NOT_SET_UP
        forgotten = await self._store.delete_connection(team_id, user)
        if forgotten is None:
            return wording.NOT_CONNECTED
        try:
            await self._oauth.revoke(forgotten.refresh_token)  # revokes its access tokens too
        except AsanaError as exc:
            log.warning("Asana did not confirm revoking the connection of %s: %s", user, exc)
        log.info("%s disconnected their Asana account", user)
        return wording.disconnected(forgotten.asana_name)

    async def forget_workspace(self, team_id: TeamId) -> int:
        """The app was uninstalled from a Slack workspace: its people's connections are revoked and forgotten."""
        forgotten = await self._store.delete_connections_of(team_id)
        for connection in forgotten:
            await self._revoke_quietly(connection.refresh_token)
        return len(forgotten)

    async def finish(self, *, state: str | None, code: str | None, error: str | None) -> Finished:
        """The return from Asana's consent page (GET /asana/oauth_redirect)."""
        if self._oauth is None:
            return Finished(False, reason=wording.CONNECT_NOT_SET_UP_PAGE)
        taken = await self._store.take_pending_connect(digest(state)) if state else None
        if taken is None or self._clock.now() >= taken.expires_at:
            return Finished(False, reason=wording.CONNECT_STATE_UNKNOWN)
        if error:
            if error == "access_denied":
                return Finished(False, reason=wording.CONNECT_DECLINED)
            shown = error if _ERROR_CODE.fullmatch(error) else "unexpected"
            return Finished(False, reason=wording.CONNECT_ASANA_ERROR.format(error=shown))
        if not code:
            return Finished(False, reason=wording.CONNECT_NO_CODE)
        try:
            grant = await self._oauth.exchange_code(code, code_verifier=taken.code_verifier)
            me = await self._asana.acting_as(grant.access_token).me()
        except OAuthRefused:
            return Finished(False, reason=wording.CONNECT_CODE_REFUSED)
        except AsanaError as exc:
            log.warning("connecting an Asana account failed: %s", exc)
            return Finished(False, reason=wording.CONNECT_ASANA_DOWN)
        workspace = self._workspace_gid()
        if workspace is not None and workspace not in me.workspace_gids:
            await self._revoke_quietly(grant.refresh_token)
            return Finished(False, reason=wording.CONNECT_WRONG_WORKSPACE)
        now = self._clock.now()
        await self._store.save_connection(
            Connection(
                team_id=taken.team_id,
                slack_user_id=taken.slack_user_id,
                asana_user_gid=me.gid,
                asana_name=me.name or grant.user_name,
                access_token=grant.access_token,
                refresh_token=grant.refresh_token,
                expires_at=now + timedelta(seconds=grant.expires_in),
                connected_at=now,
            )
        )
        log.info("%s connected their Asana account (%s)", taken.slack_user_id, me.gid)
        await self._tell(taken.team_id, taken.slack_user_id, wording.already_connected(me.name or grant.user_name))
        return Finished(True, asana_name=me.name or grant.user_name)

    async def _revoke_quietly(self, token: str) -> None:
        if self._oauth is None:
            return
        try:
            await self._oauth.revoke(token)
        except AsanaError as exc:
            log.warning("could not revoke a refused Asana connection: %s", exc)
