"""When a tracked task next needs judging (`next_check`, what the scheduler indexes), and the digest of the
policy the rules read (`rules_digest`): when it changes, every next moment is worked out again. Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Container, Mapping
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime

from bridge.domain.model import NagKey
from bridge.domain.nag_rules import rules_for
from bridge.domain.nags import TaskView
from bridge.domain.policy import Policy

# A task's moment after a save (any save may change what is due): before every `now`, so the next tick judges it.
ARM_AT_ONCE = datetime(1970, 1, 1, tzinfo=UTC)


def next_check(
    task: TaskView,
    policy: Policy,
    now: datetime,
    already_sent: Container[NagKey],
    *,
    snoozed_until: datetime | None = None,
) -> datetime | None:
    """The first moment after `now` at which `due_nags` may find a nag it does not find at `now`; None: never,
    unless the task changes (or a nag is recorded, or the policy changes).

    What the scheduler indexes, so that a tick reads only the tasks whose moment has come. Never later than the
    real moment (a stage, period or target reached, the team's next opening, the snooze's end); it may be earlier
    (a stage whose nag was sent already): the task is then judged for nothing and given its next moment.
    A nag due at `now` and not sent is not counted here: whoever could not send it says when to try again.
    """
    if task.completed:
        return None
    rules = rules_for(policy).at(now)
    clock = rules.clock
    moments = [m for change in rules.changes if (m := change(task, now)) is not None]
    held = snoozed_until is not None and snoozed_until > now
    # Nothing goes while the team is away or the task is snoozed: what is due stays due until then.
    if (held or not clock.is_open(now)) and any(rule(task, now, already_sent) for rule in rules.kinds):
        moments.append(now)
    if not moments:
        return None
    earliest = min(moments)
    if held:
        assert snoozed_until is not None
        earliest = max(earliest, snoozed_until)
    return clock.next_open(earliest)  # later than `now`: every change is, and `now` is added only when closed


def rules_digest(policy: Policy, priority_field: str | None) -> str:
    """A digest of what the nag rules read from a link's policy (and the priority field its tasks are read with):
    when it changes, every task's next moment must be worked out again."""
    read = (
        policy.business_hours,
        policy.sla,
        policy.triage,
        policy.reminders,
        policy.capture.acknowledge,
        priority_field,
    )
    return hashlib.sha256(_canonical(read).encode()).hexdigest()


def _canonical(value: object) -> str:
    """The same text for the same value in every process (sets and mappings in order; no hash seeds)."""
    if is_dataclass(value) and not isinstance(value, type):
        return _canonical({f.name: getattr(value, f.name) for f in fields(value)})
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_canonical(k)}:{_canonical(v)}" for k, v in sorted(value.items(), key=str)) + "}"
    if isinstance(value, (set, frozenset)):
        return "{" + ",".join(sorted(_canonical(v) for v in value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    return repr(value)
