"""What a click on a nag's button or select does to its task: a change, nothing, or "this nag is outdated". Pure.

A nag shows its task as it was when it was posted; by the time someone clicks, the task may have moved on. The
service reads the task once and `decide` compares the click with the task as Asana has it now:
- the task is completed: every button of the nag is outdated (nothing changes, the nag says so);
- Push due on a reminder whose due date moved (or was cleared) since: outdated, or the push would count twice;
- a priority on a triage nag, or a field on a missing-fields nag, once that field has a value: outdated (someone
  answered the nag in Asana already);
- asking for what the task already has (the same assignee, the same option): nothing to do, the nag stays;
- anything else is applied. A priority also asks for the section of that name and for the SLA due date (which
  `sla.due_after_priority` gives only while the due date is the bridge's own).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from bridge.domain.model import MessageTs, NagKey, SlackUserId
from bridge.domain.nags import SECTION_SINCE, NagKind, period_stamp
from bridge.domain.policy import Policy
from bridge.domain.relay import DUE_PUSHES
from bridge.domain.sla import DUE_SET_BY_BRIDGE, due_for_new_priority
from bridge.domain.work import custom_field, iso_day, iso_moment

SNOOZE_FOR = timedelta(days=1)
PUSH_BY = timedelta(weeks=1)
# The nag log's kind for a clicked message it has no row for (a copy of a nag sent as a DM, say): the click is
# still recorded, so that a double click on it applies once too. No nag rule ever produces this kind.
CLICKED_COPY = "clicked_copy"


class Action(StrEnum):
    DONE = "done"
    SNOOZE = "snooze"
    PUSH = "push"
    REASSIGN = "reassign"
    PRIORITY = "priority"
    FIELD = "field"  # an enum custom field a missing-fields nag asks for


@dataclass(frozen=True)
class Click:
    action: Action
    value: str | None = None  # REASSIGN: the chosen Asana user gid; PRIORITY, FIELD: the chosen enum option gid
    field_gid: str | None = None  # FIELD: which enum custom field


class Verdict(StrEnum):
    APPLY = "apply"
    UNCHANGED = "unchanged"  # the task is already as asked: nothing to do; the nag stays as it is
    OUTDATED = "outdated"  # the task moved on since the nag: nothing changes; the nag is updated to say so


class Why(StrEnum):
    COMPLETED = "completed"
    DUE_MOVED = "due_moved"
    ALREADY_SET = "already_set"
    SAME_ASSIGNEE = "same_assignee"
    SAME_OPTION = "same_option"
    NO_OPTION = "no_option"  # the option (or the field) is not on the task any more
    NO_DUE = "no_due"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    action: Action
    why: Why | None = None
    changes: dict[str, Any] = field(default_factory=dict)  # the task update, as PUT /tasks/{gid} takes it
    field_name: str | None = None
    choice: str | None = None  # the chosen option's name
    section: str | None = None  # a priority: move the task to the project's section of this name, if there is one
    due_on: date | None = None  # the new due date (a push, or from the SLA)
    due_from_sla: bool = False
    snooze_until: datetime | None = None
    current: str | None = None  # what the task has now, for the words of UNCHANGED and OUTDATED


@dataclass(frozen=True)
class PostedNag:
    """A row of the nag log: the nag, the message it was posted as, and who acted on it, if anyone did."""

    key: NagKey
    sent_at: datetime
    message_ts: MessageTs | None = None
    acted_at: datetime | None = None
    acted_by: SlackUserId | None = None
    outcome: str | None = None  # what the updated nag says was done


def decide(
    click: Click,
    task: Mapping[str, Any],
    *,
    nag: NagKey | None,
    priority_field: str | None,
    policy: Policy,
    snapshot: Mapping[str, Any],
    created_at: datetime,
    now: datetime,
) -> Decision:
    """What `click` does to `task` (Asana's JSON, read just now). `policy` is the task's project's policy."""
    action = click.action
    if task.get("completed"):
        return Decision(Verdict.OUTDATED, action, Why.COMPLETED)
    if action is Action.DONE:
        return Decision(Verdict.APPLY, action, changes={"completed": True})
    if action is Action.SNOOZE:
        return Decision(Verdict.APPLY, action, snooze_until=now + SNOOZE_FOR)
    if action is Action.PUSH:
        return _push(task, nag)
    if action is Action.REASSIGN:
        assignee = task.get("assignee") or {}
        if click.value and assignee.get("gid") == click.value:
            return Decision(Verdict.UNCHANGED, action, Why.SAME_ASSIGNEE, current=assignee.get("name"))
        return Decision(Verdict.APPLY, action, changes={"assignee": click.value})
    field_gid = click.field_gid if action is Action.FIELD else priority_field
    is_priority = field_gid is not None and field_gid == priority_field
    asked = (nag is not None and nag.kind == NagKind.TRIAGE and is_priority) or (
        nag is not None and nag.kind == NagKind.MISSING_FIELDS and action is Action.FIELD
    )
    return _choose(task, field_gid, click.value, asked=asked, action=action) or _apply_choice(
        task,
        field_gid,
        click.value,
        is_priority=is_priority,
        policy=policy,
        snapshot=snapshot,
        created_at=created_at,
        action=action,
    )


def remembered(
    snapshot: Mapping[str, Any], after: Mapping[str, Any], decision: Decision, *, now: datetime, moved: bool
) -> dict[str, Any]:
    """The tracked task's snapshot once `decision` was applied; `after` is Asana's answer to the change.

    Only what the bridge changed is taken from `after`: the relay never tells the bridge's own changes (the edited
    nag does), while a change a person made in Asana meanwhile must still differ from the snapshot to be told.
    """
    out = dict(snapshot)
    changes = decision.changes
    for key in ("completed", "assignee"):
        if key in changes:
            out[key] = after.get(key)
    if "due_on" in changes or "due_at" in changes:
        if iso_day(snapshot.get("due_on")) and iso_day(after.get("due_on")) and after["due_on"] > snapshot["due_on"]:
            out[DUE_PUSHES] = int(snapshot.get(DUE_PUSHES) or 0) + 1
        out["due_on"], out["due_at"] = after.get("due_on"), after.get("due_at")
    for field_gid in changes.get("custom_fields") or {}:
        fresh = custom_field(after, field_gid)
        if fresh is not None:
            fields = list(out.get("custom_fields") or ())
            at = next((i for i, f in enumerate(fields) if f.get("gid") == field_gid), len(fields))
            out["custom_fields"] = [*fields[:at], dict(fresh), *fields[at + 1 :]]
    if moved:
        out["memberships"] = after.get("memberships")
        out[SECTION_SINCE] = now.isoformat()
    if decision.due_from_sla and decision.due_on is not None:
        out[DUE_SET_BY_BRIDGE] = decision.due_on.isoformat()
    return out


def _push(task: Mapping[str, Any], nag: NagKey | None) -> Decision:
    due_at = iso_moment(task.get("due_at"))
    due_on = iso_day(task.get("due_on"))
    label = period_stamp(due_at) if due_at else (due_on.isoformat() if due_on else None)
    day = due_at.date() if due_at else due_on
    current = day.isoformat() if day else None
    # A reminder's period starts with the due date it was about ("2026-12-04", or "2026-12-04#2" when overdue).
    if nag is not None and nag.kind == NagKind.REMINDER and nag.period.split("#")[0] != label:
        return Decision(Verdict.OUTDATED, Action.PUSH, Why.DUE_MOVED, current=current)
    if due_at is not None:
        pushed = due_at + PUSH_BY
        changes = {"due_at": pushed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")}
        return Decision(Verdict.APPLY, Action.PUSH, changes=changes, due_on=pushed.date())
    if due_on is None:
        return Decision(Verdict.UNCHANGED, Action.PUSH, Why.NO_DUE)
    new = due_on + PUSH_BY
    return Decision(Verdict.APPLY, Action.PUSH, changes={"due_on": new.isoformat()}, due_on=new)


def _choose(
    task: Mapping[str, Any], field_gid: str | None, option: str | None, *, asked: bool, action: Action
) -> Decision | None:
    """UNCHANGED or OUTDATED for a choice of option, or None when the choice is to be applied."""
    found = custom_field(task, field_gid)
    chosen = _option(found, option) if found is not None else None
    if found is None or chosen is None:
        return Decision(Verdict.UNCHANGED, action, Why.NO_OPTION, field_name=found.get("name") if found else None)
    name = str(found.get("name") or "")
    current = found.get("enum_value") or {}
    if current.get("gid") == option:
        return Decision(Verdict.UNCHANGED, action, Why.SAME_OPTION, field_name=name, current=current.get("name"))
    if asked and current.get("gid"):
        return Decision(Verdict.OUTDATED, action, Why.ALREADY_SET, field_name=name, current=current.get("name"))
    return None


def _apply_choice(
    task: Mapping[str, Any],
    field_gid: str | None,
    option: str | None,
    *,
    is_priority: bool,
    policy: Policy,
    snapshot: Mapping[str, Any],
    created_at: datetime,
    action: Action,
) -> Decision:
    found = custom_field(task, field_gid) or {}
    name = str(found.get("name") or "")
    choice = str((_option(found, option) or {}).get("name") or "")
    changes: dict[str, Any] = {"custom_fields": {field_gid: option}}
    if not is_priority:
        return Decision(Verdict.APPLY, action, changes=changes, field_name=name, choice=choice)
    due = due_for_new_priority(
        policy, choice, task, set_by_bridge=snapshot.get(DUE_SET_BY_BRIDGE), created_at=created_at
    )
    if due is not None:
        changes["due_on"] = due.isoformat()
    return Decision(
        Verdict.APPLY,
        action,
        changes=changes,
        field_name=name,
        choice=choice,
        section=choice,
        due_on=due,
        due_from_sla=due is not None,
    )


def _option(found: Mapping[str, Any], option: str | None) -> Mapping[str, Any] | None:
    return next((o for o in found.get("enum_options") or () if o.get("gid") == option and o.get("enabled", True)), None)
