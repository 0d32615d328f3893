"""The App Home tab: published when a person opens it, and its switch acts for that person only."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck

from bridge import wording
from bridge.domain.model import SlackUserId, TeamId
from bridge.entrypoints.slack_listener import Listener, Listeners, answering, home_teller


async def on_home_opened(deps: Listeners, event: dict[str, Any], body: dict[str, Any]) -> None:
    if event.get("tab") != "home":
        return  # the Messages tab
    team, user = TeamId(str(body.get("team_id") or "")), SlackUserId(str(event["user"]))
    deps.background.spawn(deps.home.show(team, user), name=f"home {user}")


async def switch(deps: Listeners, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
    await ack()
    user = SlackUserId(body["user"]["id"])
    team = TeamId((body.get("team") or {}).get("id") or body["user"].get("team_id") or "")
    on = action.get("value") == "on"

    work = answering(lambda: deps.home.set_assignment_dms(team, user, on), home_teller(deps, team, user))
    deps.background.spawn(work, name=f"home switch {user}")


LISTENERS = (
    Listener("event", "app_home_opened", on_home_opened),
    Listener("action", wording.HOME_ASSIGNMENT_DMS, switch),
)
