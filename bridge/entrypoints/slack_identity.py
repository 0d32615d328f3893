"""`/asana connect`, `/asana disconnect` and the App Home's connection buttons: each acts for whoever sent it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond

from bridge import wording
from bridge.domain.model import SlackUserId, TeamId
from bridge.entrypoints.slack_listener import Listener, Listeners, answering, home_teller, then


async def connect_command(deps: Listeners, team: TeamId, user: SlackUserId, respond: AsyncRespond) -> None:
    """The private link to Asana's consent page (or who they are connected as already)."""

    async def tell(text: str) -> None:
        await respond(text=text, response_type="ephemeral")

    async def work() -> None:
        text, prompt = await deps.identities.connect(team, user)
        await respond(text=text, blocks=prompt or None, response_type="ephemeral")

    await answering(work, tell)


async def disconnect_command(deps: Listeners, team: TeamId, user: SlackUserId, respond: AsyncRespond) -> None:
    async def tell(text: str) -> None:
        await respond(text=text, response_type="ephemeral")

    await answering(lambda: then(tell, deps.identities.disconnect(team, user)), tell)


def _clicker(body: dict[str, Any]) -> tuple[TeamId, SlackUserId]:
    user = SlackUserId(body["user"]["id"])
    return TeamId((body.get("team") or {}).get("id") or body["user"].get("team_id") or ""), user


async def connect_opened(deps: Listeners, ack: AsyncAck) -> None:
    await ack()  # a link button: Slack opens Asana's page in the browser and tells us about the click


async def home_connect(deps: Listeners, ack: AsyncAck, body: dict[str, Any]) -> None:
    await ack()
    team, user = _clicker(body)
    say = home_teller(deps, team, user)

    async def work() -> None:
        await say(wording.home_connect_link(await deps.identities.connect_url(team, user)))

    deps.background.spawn(answering(work, say), name=f"home connect {user}")


async def home_disconnect(deps: Listeners, ack: AsyncAck, body: dict[str, Any]) -> None:
    await ack()
    team, user = _clicker(body)
    say = home_teller(deps, team, user)
    deps.background.spawn(
        answering(lambda: then(say, deps.identities.disconnect(team, user)), say), name=f"home disconnect {user}"
    )


LISTENERS = (
    Listener("action", wording.ASANA_CONNECT, connect_opened),
    Listener("action", wording.ASANA_CONNECT_START, home_connect),
    Listener("action", wording.ASANA_DISCONNECT, home_disconnect),
)
