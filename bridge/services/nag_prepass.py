"""The quiet part of a tick that judges many tasks, done away from the bridge's event loop.

After the upgrade that adds the nag index, and when a link's rules change, a tick finds every task of the link due
to be judged: 100,000 tasks took 10-14 s of CPU in the bridge's process, and with its core busy that long the
system left the whole process, event loop included, waiting for a core for 50-250 ms at a time on a shared machine
(bench/RESULTS.md). Nearly all of those tasks have nothing to send: each only needs its next moment stored. Here,
in a process of its own (adapters/worker_process.py), the tasks whose moment has come are read and judged by the
same rules as the tick's (`Nagger._judge`), and those with nothing due now get their next moment, armed as of the
revision read (a save meanwhile wins, as always). Tasks with a nag due, and those whose nags wait for their
person's hours (the tick's memory, `skip`), are left as they are: the tick that follows judges and sends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bridge.domain.model import Arm, ChannelId, Link, NagKey, ProjectGid, TaskGid, TaskToJudge
from bridge.domain.nag_moments import next_check
from bridge.domain.nag_rules import due_nags
from bridge.domain.nags import SNOOZED_UNTIL, task_view
from bridge.domain.policy import Policy
from bridge.ports import NagIndex, NagLog

PAGE = 500  # tasks read, judged and armed at a time


class QuietArming(Protocol):
    async def arm_quiet(self, links: Sequence[Link], now: datetime, skip: frozenset[TaskGid]) -> int:
        """Store the next moment of every task due to be judged at `now` that has nothing to send now (but those in
        `skip`); returns how many were armed."""
        ...


class PrepassStore(NagIndex, NagLog, Protocol):
    """What the pre-pass reads and writes."""


async def arm_quiet(
    store: PrepassStore, policy: Policy, links: Sequence[Link], now: datetime, skip: frozenset[TaskGid]
) -> int:
    """See QuietArming.arm_quiet."""
    homes = {(link.project_gid, link.channel_id): link for link in links}
    armed = 0
    after: tuple[datetime, str] | None = None
    while True:
        page = await store.tasks_to_judge(now=now, after=after, limit=PAGE)
        if not page:
            return armed
        after = (page[-1].check_at, page[-1].task.task_gid)
        sent = await store.sent_nags([due.task.task_gid for due in page if due.task.task_gid not in skip])
        arms = [arm for due in page if (arm := _quiet(due, homes, policy, now, sent, skip)) is not None]
        await store.arm_tasks(arms)
        armed += len(arms)
        if len(page) < PAGE:
            return armed


def _quiet(
    due: TaskToJudge,
    homes: dict[tuple[ProjectGid, ChannelId], Link],
    policy: Policy,
    now: datetime,
    sent: set[NagKey],
    skip: frozenset[TaskGid],
) -> Arm | None:
    """The task's next moment when it has nothing to send now (as `Nagger._judge` works it out); None otherwise."""
    tracked = due.task
    if tracked.task_gid in skip:
        return None
    link = homes.get((tracked.project_gid, tracked.channel_id))
    if link is None or tracked.completed or tracked.parent_gid is not None:
        return Arm(tracked.task_gid, due.revision, None)  # unlinked, done, or a subtask: not unless it changes
    rules = policy.for_project(link.project_gid)
    field = link.priority_field_gid or rules.triage.priority_field
    view = task_view(tracked, priority_field=field, required_fields=rules.reminders.required_fields)
    until = tracked.snapshot.get(SNOOZED_UNTIL)
    snoozed = datetime.fromisoformat(str(until)) if until else None
    if not (snoozed is not None and snoozed > now) and due_nags(view, rules, now, sent):
        return None  # something to send: the tick's
    return Arm(tracked.task_gid, due.revision, next_check(view, rules, now, sent, snoozed_until=snoozed))
