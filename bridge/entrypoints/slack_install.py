"""The multi-workspace side of Bolt: which workspace a request acts for, and what an uninstall or a revoked token
clears (the workspace's stored tokens, and on uninstall its channel links and its people's Asana connections)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore

from bridge.domain.model import TeamId
from bridge.entrypoints.background import Background
from bridge.entrypoints.slack_listener import Listener, attach
from bridge.services.links import Links

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Installs:
    """What an uninstall or a revoked token clears."""

    links: Links
    background: Background
    installations: AsyncInstallationStore
    forget_team: Callable[[str], None]
    forget_people: Callable[[TeamId], Awaitable[int]] | None = None


async def uninstalled(deps: Installs, context: AsyncBoltContext) -> None:
    team = context.team_id
    if not team:
        return
    await deps.installations.async_delete_all(enterprise_id=context.enterprise_id, team_id=team)
    deps.forget_team(team)
    log.info("app uninstalled from %s: its tokens are deleted", team)

    async def unlink() -> None:
        count = await deps.links.unlink_workspace(TeamId(team))
        log.info("app uninstalled from %s: %d channel links removed", team, count)
        if deps.forget_people is not None:
            people = await deps.forget_people(TeamId(team))
            log.info("app uninstalled from %s: %d Asana connections revoked", team, people)

    deps.background.spawn(unlink(), name=f"uninstall {team}")


async def revoked(deps: Installs, event: dict[str, Any], context: AsyncBoltContext) -> None:
    store = deps.installations
    team = context.team_id
    tokens = event.get("tokens") or {}
    for user_id in tokens.get("oauth") or []:
        await store.async_delete_installation(enterprise_id=context.enterprise_id, team_id=team, user_id=user_id)
    if tokens.get("bot"):
        # Without its bot token the app cannot act in the workspace: the installations that carry it go too,
        # or Bolt's authorize (which reads installations first) would keep handing out the dead token.
        await store.async_delete_bot(enterprise_id=context.enterprise_id, team_id=team)
        await store.async_delete_installation(enterprise_id=context.enterprise_id, team_id=team)
    if team:
        deps.forget_team(team)
    log.info(
        "tokens revoked in %s: %d user, %d bot", team, len(tokens.get("oauth") or []), len(tokens.get("bot") or [])
    )


LISTENERS = (
    Listener("event", "app_uninstalled", uninstalled),
    Listener("event", "tokens_revoked", revoked),
)


def register(
    app: AsyncApp,
    *,
    links: Links,
    background: Background,
    installations: AsyncInstallationStore | None,
    forget_team: Callable[[str], None],
    forget_people: Callable[[TeamId], Awaitable[int]] | None = None,
) -> None:
    """Before entrypoints/slack.py's listeners, so that these come before its quiet no-op for the same events.
    Each request acts for its team: slack.py's middleware."""
    if installations is None:
        return  # single-workspace install: the one token is the operator's, nothing is stored to clear
    deps = Installs(links, background, installations, forget_team, forget_people)
    for listener in LISTENERS:
        attach(app, listener, deps)
