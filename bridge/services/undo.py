"""Undo a /task: the task it just made is deleted in Asana, its post in the channel goes, the bridge forgets it."""

from __future__ import annotations

import logging

from bridge import wording
from bridge.domain.model import SlackUserId, TaskGid
from bridge.domain.undo import undo_refusal
from bridge.errors import SlackError
from bridge.ports import AsanaPort, Clock, SlackTeams, TaskStore
from bridge.services.errors import UserError

log = logging.getLogger(__name__)


class Undo:
    def __init__(self, *, store: TaskStore, asana: AsanaPort, slack: SlackTeams, clock: Clock) -> None:
        self._store = store
        self._asana = asana
        self._slack = slack
        self._clock = clock

    async def undo(self, task_gid: TaskGid, by: SlackUserId) -> str:
        """What to tell `by` once the task is gone; a UserError says why it may not be undone."""
        tracked = await self._store.get_tracked_task(task_gid)
        refusal = undo_refusal(
            made_by=tracked.requester if tracked else None,
            made_at=tracked.created_at if tracked else None,
            by=by,
            now=self._clock.now(),
        )
        if refusal is not None or tracked is None:
            raise UserError(wording.undo_refused(refusal))
        await self._asana.delete_task(task_gid)  # the bridge's own change: the relay tells nobody about it
        await self._store.forget_tracked_task(task_gid)
        try:
            await self._slack.for_team(tracked.team_id).delete_message(tracked.channel_id, tracked.thread_ts)
        except SlackError as exc:  # the task is gone; a post left behind (someone replied to it?) is worth a log
            log.warning("undone task %s: its post %s stays (%s)", task_gid, tracked.thread_ts, exc)
        log.info("task %s undone by %s", task_gid, by)
        return wording.task_undone(tracked.name)
