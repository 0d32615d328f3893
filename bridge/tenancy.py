"""Which Slack workspace the current piece of work acts for, so the Slack gateway calls Slack with its token.

Set where work enters: a Bolt request (the team Slack signed it for), a relay or nag for one link, a capture
resumed by the sweeper. Context variables follow the work into the tasks it starts (Background.spawn), and
stay inside the task that set them, so two requests from two workspaces never see each other's team.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_team: ContextVar[str | None] = ContextVar("bridge_slack_team", default=None)


def current_team() -> str | None:
    """The workspace (Slack team id) the running work acts for, or None when no entry point said."""
    return _team.get()


def act_for(team_id: str | None) -> None:
    """Make the rest of the current task act for `team_id` (a request's own task: it ends with the request)."""
    _team.set(team_id)


@contextmanager
def acting_for(team_id: str) -> Iterator[None]:
    """Act for `team_id` inside the block, then go back to whoever the task acted for before."""
    token = _team.set(team_id)
    try:
        yield
    finally:
        _team.reset(token)
