"""Routing: why a task went to someone, the ping before it moves on, and `/asana routing`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bridge.adapters.blocks.kit import Blocks, _button, _plain_text, escape

ROUTING_KEEP = "routing_keep"
ROUTING_RELEASE = "routing_release"
ROUTING_ACTIONS_BLOCK = "routing_actions:"  # + the task gid
ROUTING_ACTION_PATTERN = r"^routing_(keep|release)$"


_SKIPPED = {
    "out_of_office": "is out of office",
    "at_capacity": "is at capacity",
    "outside_hours": "is outside working hours and the SLA is short",
    "had_task": "had it already",
}


def skipped_part(name: str, reason: str, back_on: date | None) -> str:
    """One skipped person in a routing reason: "Cy is out of office until Mon 07 Dec"."""
    said = f"{name} {_SKIPPED.get(reason, reason)}"
    return f"{said} until {back_on.strftime('%a %d %b')}" if back_on is not None and reason == "out_of_office" else said


def routing_reason(
    assignee: str, *, matched: Sequence[str], open_tasks: int | None, skipped: Sequence[str], because: str | None
) -> str:
    """Why routing chose someone, in plain words (an Asana comment; the thread adds a mention):
    "→ Bo: matches “oauth”; 2 open tasks; Cy is out of office until Mon 07 Dec"."""
    parts = [because] if because else []
    parts.append(f"matches {', '.join(f'“{word}”' for word in matched)}" if matched else "no skill matched")
    if open_tasks is not None:
        parts.append(f"{open_tasks} open task{'' if open_tasks == 1 else 's'}")
    parts.extend(skipped)
    return f"→ {assignee}: " + "; ".join(parts)


def routing_nobody(triager: str | None, *, name: str, skipped: Sequence[str], pool_empty: bool) -> str:
    who = f"{triager}: " if triager else ""
    why = "nobody in the pool has an Asana account I can find" if pool_empty else "; ".join(skipped)
    return (
        f"🧭 {who}nobody could take “{escape(name)}” ({why}). It stays unassigned; I'll try again as people come back."
    )


def routing_stays(assignee: str, *, because: str) -> str:
    return f"↩️ {because}, and nobody else can take it now, so it stays with {assignee}."


def routing_ping(holder: str, *, name: str, since: date, window: str, task_gid: str) -> tuple[str, Blocks]:
    """Asked once before a routed task moves on: act on it, or hand it back, with buttons for either."""
    text = (
        f"⏳ {holder}, “{escape(name)}” has waited for you since {since.strftime('%a %d %b')}. Act on it or hand it "
        f"back: {window} after it was routed to you, it goes to the next person."
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
    """A routing ping once answered (its buttons gone)."""
    return f"⏳ {escape(holder)} was asked to act on “{escape(name)}” or hand it back."


def routing_ping_comment(holder: str, window: str) -> str:
    return (
        f"{holder}: this task has waited for you since it was routed to you. Act on it or hand it back from Slack; "
        f"after {window} it goes to the next person."
    )


def routing_kept(holder: str, window: str) -> str:
    return f"👍 {holder} keeps it; the window of {window} starts again now."


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
