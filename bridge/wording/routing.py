"""Routing: why a task went to someone, the ping before it moves on, and `/asana routing`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from bridge.wording.kit import Blocks, _button, _plain_text, escape

ROUTING_KEEP = "routing_keep"
ROUTING_RELEASE = "routing_release"
ROUTING_ACTIONS_BLOCK = "routing_actions:"  # + the task gid
ROUTING_ACTION_PATTERN = r"^routing_(keep|release)$"


_SKIPPED = {
    "out_of_office": "out of office",
    "at_capacity": "at capacity",
    "outside_hours": "outside working hours, and the SLA is short",
    "had_task": "had it already",
}


def skipped_part(name: str, reason: str, back_on: date | None) -> str:
    """One skipped person in a routing reason: "Cy Park (out of office until Mon 07 Dec)"."""
    said = _SKIPPED.get(reason, reason)
    if back_on is not None and reason == "out_of_office":
        said += f" until {back_on.strftime('%a %d %b')}"
    return f"{name} ({said})"


def routing_reason(
    assignee: str,
    *,
    matched: Sequence[str],
    open_tasks: int | None,
    skipped: Sequence[str],
    because: str | None,
    fewest: bool = False,
    moves_on: datetime | None = None,
) -> str:
    """Why routing chose someone, and until when (an Asana comment with names; the thread's with mentions):
    "Assigned to @bo: matches “oauth”, fewest open tasks (0). If nobody acts by Tue 08 Dec 15:00 it moves on."."""
    why = [because] if because else []
    why.append(f"matches {', '.join(f'“{word}”' for word in matched)}" if matched else "no skill matched")
    if open_tasks is not None:
        tasks = f"{open_tasks} open task{'' if open_tasks == 1 else 's'}"
        why.append(f"fewest open tasks ({open_tasks})" if fewest else tasks)
    text = f"🧭 {'Reassigned' if because else 'Assigned'} to {assignee}: " + ", ".join(why) + "."
    if skipped:
        text += " Skipped: " + "; ".join(skipped) + "."
    if moves_on is not None:
        text += f" {_moves_on(moves_on)}"
    return text


def _moves_on(moment: datetime) -> str:
    return f"If nobody acts by {moment.strftime('%a %d %b %H:%M')} it moves on."


def routing_nobody(triager: str | None, *, name: str, skipped: Sequence[str], pool_empty: bool) -> str:
    who = f"{triager}: " if triager else ""
    why = "Nobody in the pool has an Asana account I can find" if pool_empty else "Skipped: " + "; ".join(skipped)
    return (
        f"🧭 {who}nobody could take “{escape(name)}”. {why}. It stays unassigned; I'll try again as people come back."
    )


def routing_stays(assignee: str, *, because: str) -> str:
    return f"↩️ {because}, and nobody else can take it now, so it stays with {assignee}."


def routing_ping(holder: str, *, name: str, since: date, moves_on: datetime, task_gid: str) -> tuple[str, Blocks]:
    """Asked once before a routed task moves on: act on it, or hand it back, with buttons for either."""
    text = (
        f"⏳ {holder}, “{escape(name)}” has waited for you since {since.strftime('%a %d %b')}. Act on it or hand it "
        f"back. {_moves_on(moves_on)}"
    )
    return _plain_text(text), [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "actions",
            "block_id": ROUTING_ACTIONS_BLOCK + task_gid,
            "elements": [
                _button(ROUTING_KEEP, "Keep it", task_gid, style="primary"),
                _button(ROUTING_RELEASE, "Hand it back", task_gid),
            ],
        },
    ]


def routing_ping_asked(holder: str, name: str) -> str:
    """A routing ping once answered (its buttons gone); `holder` is a mention or an escaped name."""
    return f"⏳ {holder} was asked to act on “{escape(name)}” or hand it back."


def routing_ping_comment(holder: str, window: str) -> str:
    return (
        f"{holder}: this task has waited for you since it was routed to you. Act on it or hand it back from Slack; "
        f"after {window} it goes to the next person."
    )


def routing_kept(holder: str, moves_on: datetime) -> str:
    return f"👍 {holder} keeps it. {_moves_on(moves_on)}"


def routing_did_not_act(holder: str, window: str, *, wait_for: str) -> str:
    done = "acknowledge" if wait_for == "acknowledgement" else "complete"
    return f"{holder} did not {done} it within {window}"


def routing_handed_back(holder: str) -> str:
    return f"{holder} handed it back"


def routing_click_refused(user_id: str) -> str:
    return (
        f"<@{user_id}>, only the person the task was routed to, or the triager, can keep it or hand it back, so "
        "nothing was changed."
    )


ROUTING_CLICK_OUTDATED = (
    "That task is no longer waiting on this question (it moved on, or someone assigned it), so nothing was changed."
)


def routing_overview(pool: Sequence[tuple[str, int, int, str | None]], *, wait: str) -> str:
    """/asana routing: each person with open tasks, capacity and whether they are out."""
    if not pool:
        return (
            "This channel's project has no routing pool, so new tasks are not assigned automatically. Add a "
            "`[routing] pool` to bridge.toml to turn it on."
        )
    lines = [f"*Routing pool* (tasks move on after {wait} without being done):"]
    for name, open_tasks, capacity, away in pool:
        state = f" — {away}" if away else ""
        lines.append(f"• {name}: {open_tasks}/{capacity} open{state}")
    return "\n".join(lines)
