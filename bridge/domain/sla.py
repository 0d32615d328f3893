"""SLA targets by priority: first-response and resolution deadlines in business time, and the due date they set.

A due date is the bridge's to move only while it is the one the bridge set. The service that sets it records the
date under DUE_SET_BY_BRIDGE in the task's snapshot (the relay carries `_bridge_` keys forward). A due date that
differs from that record was chosen by a person: one set without the bridge (`/task … due:fri`, a change in
Asana), one moved, or one cleared after the bridge set it. That choice stands when the priority changes. The
bridge sets dates only (`due_on`), so a due date with a time of day (`due_at`) is always a person's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from bridge.domain.business_time import BusinessClock, clock_for
from bridge.domain.policy import Policy, Sla, SlaTarget
from bridge.domain.work import iso_day, iso_moment

DUE_SET_BY_BRIDGE = "_bridge_due_set"  # snapshot key: the due date (ISO) the bridge last set from the SLA


def target_for(sla: Sla, priority: str | None) -> SlaTarget | None:
    """The targets of a priority ("P1", " p1 "); None without a priority or when the policy names none for it."""
    if not priority:
        return None
    return sla.targets.get(priority.strip().upper())


def first_response_due(clock: BusinessClock, created_at: datetime, target: SlaTarget) -> datetime:
    """When the first response is due: the target in business time after the request arrived."""
    return clock.add(created_at, clock.span(target.first_response))


def first_response_warning(clock: BusinessClock, created_at: datetime, target: SlaTarget, warn_at: float) -> datetime:
    """When the first-response warning fires: `warn_at` of the target in business time after the request arrived."""
    return clock.add(created_at, clock.span(target.first_response) * warn_at)


def resolution_due(clock: BusinessClock, created_at: datetime, target: SlaTarget) -> datetime:
    """When the resolution is due: the target in business time after the request arrived (not after triage)."""
    return clock.add(created_at, clock.span(target.resolution))


def sla_due_on(policy: Policy, priority: str | None, created_at: datetime) -> date | None:
    """The due date a priority gives: the team's calendar date of the resolution deadline."""
    target = target_for(policy.sla, priority)
    if target is None:
        return None
    clock = clock_for(policy.business_hours)
    return clock.local_date(resolution_due(clock, created_at, target))


def set_by_hand(due_on: date | None, due_at: datetime | None, set_by_bridge: date | None) -> bool:
    """Whether a person chose the task's current due date (so the SLA must not move it)."""
    return due_at is not None or due_on != set_by_bridge


def due_after_priority(
    policy: Policy,
    *,
    priority: str | None,
    created_at: datetime,
    due_on: date | None,
    due_at: datetime | None,
    set_by_bridge: date | None,
) -> date | None:
    """The due date to set now that the priority is `priority`; None leaves the task's due date as it is.

    Recomputed on every priority change, unless a person set the due date by hand; nothing when the priority is
    cleared, has no SLA target, or gives the date the task already has.
    """
    if set_by_hand(due_on, due_at, set_by_bridge):
        return None
    wanted = sla_due_on(policy, priority, created_at)
    if wanted is None or wanted == due_on:
        return None
    return wanted


def due_for_new_priority(
    policy: Policy, priority: str | None, task: Mapping[str, Any], *, set_by_bridge: Any, created_at: datetime
) -> date | None:
    """`due_after_priority` for a task as Asana returns it; `created_at` stands in when the task does not say."""
    return due_after_priority(
        policy,
        priority=priority,
        created_at=iso_moment(task.get("created_at")) or created_at,
        due_on=iso_day(task.get("due_on")),
        due_at=iso_moment(task.get("due_at")),
        set_by_bridge=iso_day(set_by_bridge),
    )
