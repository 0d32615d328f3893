"""Filters shared by the task lists: completed_since (incl. "now") and modified_since."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from bridge.sandbox.asana.clock import parse_iso
from bridge.sandbox.asana.errors import bad_request
from bridge.sandbox.asana.model import Task
from bridge.sandbox.asana.world import World


def task_filter(w: World, request: web.Request) -> Callable[[Task], bool]:
    """Only live tasks; `completed_since` keeps incomplete ones and those completed since; `modified_since`."""
    completed_raw = request.query.get("completed_since")
    modified_raw = request.query.get("modified_since")
    try:
        completed_since = parse_iso(completed_raw) if completed_raw and completed_raw != "now" else None
        if completed_raw == "now":
            completed_since = w.clock.now()
    except ValueError:
        raise bad_request(f"completed_since: Not a valid date-time: {completed_raw}") from None
    try:
        modified_since = parse_iso(modified_raw) if modified_raw else None
    except ValueError:
        raise bad_request(f"modified_since: Not a valid date-time: {modified_raw}") from None

    def keep(task: Task) -> bool:
        if task.deleted:
            return False
        if (
            completed_since is not None
            and task.completed
            and (task.completed_at is None or task.completed_at < completed_since)
        ):
            return False
        return modified_since is None or task.modified_at >= modified_since

    return keep
