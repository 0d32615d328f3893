"""What every Bolt listener is given (Listeners), how a table names one (Listener), and how it answers a person."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from slack_bolt.async_app import AsyncApp, AsyncRespond

from bridge import wording
from bridge.domain.model import ChannelId, SlackUserId, TeamId
from bridge.domain.policy import Policy
from bridge.entrypoints.background import Background
from bridge.errors import AsanaRateLimited, AsanaUnavailable
from bridge.ports import Clock, LinkReads, SlackEventLog, SlackTeams
from bridge.services.answers import AnswerIndex
from bridge.services.capture import Capture
from bridge.services.capture_retries import RETRY_DELAYS
from bridge.services.errors import UserError
from bridge.services.home import Home
from bridge.services.identity import Identities
from bridge.services.links import Links
from bridge.services.nag_actions import NagActions
from bridge.services.reports import Reports
from bridge.services.routing_clicks import RoutingClicks
from bridge.services.suggest import Suggestions
from bridge.services.threads import Threads
from bridge.services.undo import Undo
from bridge.services.unfurls import Unfurls

if TYPE_CHECKING:  # the backlog answers people as listeners do (answering, below)
    from bridge.entrypoints.task_backlog import TaskBacklog

log = logging.getLogger(__name__)
Say = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Listeners:
    """What the listeners hand work to."""

    links: Links
    capture: Capture
    threads: Threads
    link_reads: LinkReads  # whether a channel is linked, and to what
    slack_events: SlackEventLog  # Slack's retries of an event seen already
    slack: SlackTeams
    clock: Clock
    policy: Policy
    background: Background
    unfurls: Unfurls
    home: Home
    nag_actions: NagActions
    routing: RoutingClicks  # routing pings' buttons, /asana routing
    reports: Reports
    undo: Undo
    identities: Identities
    task_backlog: TaskBacklog  # /task commands after their ack, until they end
    retry_delays: tuple[float, ...] = RETRY_DELAYS  # how a capture waits out an Asana outage
    suggestions: Suggestions | None = None  # earlier answers: `/asana similar` and the suggestion buttons
    answers: AnswerIndex | None = None  # the index of resolved work, backfilled when a channel is linked


class Listener(NamedTuple):
    """One row of a listener table: what Slack sends (kind and matcher) and the function of (Listeners, Bolt's
    arguments by name) that answers it."""

    kind: Literal["command", "action", "view", "shortcut", "event"]
    matcher: str | re.Pattern[str]
    function: Callable[..., Awaitable[None]]


def attach(app: AsyncApp, listener: Listener, deps: object) -> None:
    """Register one listener with its dependencies (Listeners, or what its own table's functions take) bound: Bolt
    reads the names of the arguments left (ack, body, respond, …) through functools.partial and passes those."""
    bound = partial(listener.function, deps)
    # Bolt names each listener's logger after the function (slack_bolt.AsyncApp:<name>); a partial has no name.
    bound.__name__ = listener.function.__name__  # type: ignore[attr-defined]
    kinds: dict[str, Callable[..., Any]] = {
        "command": app.command,
        "action": app.action,
        "view": app.view,
        "shortcut": app.shortcut,
        "event": app.event,
    }
    kinds[listener.kind](listener.matcher)(bound)


def ids(payload: dict[str, Any]) -> tuple[TeamId, ChannelId, SlackUserId]:
    """Team, channel and user of a slash command."""
    return TeamId(payload["team_id"]), ChannelId(payload["channel_id"]), SlackUserId(payload["user_id"])


async def answering(work: Callable[[], Awaitable[object]], say: Say) -> None:
    """Run work a person asked for; whatever goes wrong is told to that person (STYLE habit 9)."""
    try:
        await work()
    except UserError as exc:
        await say(str(exc))
    except (AsanaUnavailable, AsanaRateLimited) as exc:
        log.warning("asana unavailable for a user request: %s", exc)
        await say(wording.ASANA_BUSY.format(reason=exc))
    except Exception:
        log.exception("request failed")
        await say(wording.INTERNAL_ERROR)


async def then(say: Say, message: Awaitable[str]) -> None:
    """Tell what a piece of work answers."""
    await say(await message)


def clicker_teller(
    deps: Listeners, body: dict[str, Any], team: TeamId, channel: str, user: str, respond: AsyncRespond
) -> Say:
    """Answer only whoever clicked a button on a channel message of workspace `team`, in its thread: through the
    action's response_url (adding a private note, never replacing the channel's message), else as an ephemeral."""
    thread_ts = (body.get("message") or {}).get("thread_ts")
    if body.get("response_url"):

        async def say(text: str) -> None:
            await respond(text=text, response_type="ephemeral", replace_original=False, thread_ts=thread_ts)

        return say
    return ephemeral_to(deps, team, channel, user, thread_ts)


def home_teller(deps: Listeners, team: TeamId, user: SlackUserId) -> Say:
    """Answer a click in the App Home by publishing that person's Home again, with the answer on top."""

    async def say(text: str) -> None:
        await deps.home.show(team, user, note=text)

    return say


def ephemeral_to(deps: Listeners, team: TeamId, channel: str, user: str, thread_ts: str | None = None) -> Say:
    """Tell one person something in a channel of workspace `team`, only them (no response_url needed). An answer
    Slack will not deliver (they left the channel, a guest Slack cannot see) is logged once, not raised: there is
    nobody else to tell, and the work it answers is done either way."""

    async def say(text: str) -> None:
        slack = deps.slack.for_team(team)
        await quietly(slack.post_ephemeral(channel, user, text, thread_ts=thread_ts), f"{user} in {channel}")

    return say


async def quietly(answer: Awaitable[object], to: str) -> None:
    """Send an answer to a person; one that cannot be sent is logged, not raised."""
    try:
        await answer
    except Exception as exc:  # a Slack refusal, or the response_url's network: either way nobody else can be told
        log.warning("could not answer %s: %s", to, exc)
