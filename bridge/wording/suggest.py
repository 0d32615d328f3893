"""Suggestions: past answers offered in a new question's thread, the buttons that settle them, and `/asana similar`."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from bridge.domain.suggest import Match, excerpt
from bridge.wording.kit import Blocks, _button, _mrkdwn_section, escape, first_line

SUGGEST_ACCEPT = "suggest_accept"
SUGGEST_REJECT = "suggest_reject"
SUGGEST_ACTIONS_BLOCK = "suggest:"
SUGGESTED_HEADLINE = "This may have been answered before:"
SIMILAR_USAGE = "What should I look for? `/asana similar <words>`, e.g. `/asana similar vpn drops every hour`"
SIMILAR_NONE = "No resolved task of this channel's project matches those words."
SUGGEST_ALREADY_DECIDED = "This suggestion was already settled."
SUGGEST_NOT_YOURS = "Only the person who asked (or the triager) can settle this suggestion."
SUGGESTION_HIDDEN = "_Suggestion hidden: it was not the answer._"


def _match_line(match: Match, *, quote: bool) -> str:
    answer = match.answer
    title = escape(first_line(answer.title)) or "Untitled task"
    head = f"• <{answer.permalink_url}|{title}>" if answer.permalink_url else f"• {title}"
    by = ", ".join(escape(name) for name in answer.answered_by[:2])
    when = _when(answer.resolved_at)
    facts = " · ".join(part for part in (f"answered by {by}" if by else "", when) if part)
    line = f"{head}\n{facts}" if facts else head
    text = excerpt(answer) if quote else ""
    if text:
        line += "\n" + "\n".join(f"> {escape(part)}" for part in text.splitlines())
    return line


def _when(moment: datetime | None) -> str:
    return f"resolved {moment:%d %b %Y}" if moment else ""


def suggestion(matches: Sequence[Match], *, task_gid: str, quoted: Collection[str]) -> tuple[str, Blocks]:
    """The reply in the question's thread: up to three past tasks, and the two buttons that settle it.
    `quoted`: the tasks whose answer the asker may read in Asana (the others show title and link only)."""
    lines = [_match_line(m, quote=m.answer.task_gid in quoted) for m in matches]
    body = f"*{SUGGESTED_HEADLINE}*\n" + "\n".join(lines)
    post: Blocks = [
        _mrkdwn_section(body),
        {
            "type": "actions",
            "block_id": f"{SUGGEST_ACTIONS_BLOCK}{task_gid}",
            "elements": [
                _button(SUGGEST_ACCEPT, "That answers it", task_gid, style="primary"),
                _button(SUGGEST_REJECT, "Not it", task_gid),
            ],
        },
    ]
    return SUGGESTED_HEADLINE + " " + "; ".join(first_line(m.answer.title) for m in matches), post


def suggestion_accepted(match_title: str, url: str, user: str) -> tuple[str, Blocks]:
    text = f"Answered by an earlier task: <{url}|{escape(first_line(match_title))}> (confirmed by <@{user}>)."
    return f"Answered by an earlier task: {first_line(match_title)}", [_mrkdwn_section(text)]


def similar_results(words: str, matches: Sequence[Match], *, quoted: Collection[str]) -> tuple[str, Blocks]:
    """`/asana similar`: only the person who asked sees it."""
    if not matches:
        return SIMILAR_NONE, [_mrkdwn_section(SIMILAR_NONE)]
    head = f"*Resolved tasks like “{escape(first_line(words, 80))}”:*"
    body = head + "\n" + "\n".join(_match_line(m, quote=m.answer.task_gid in quoted) for m in matches)
    return f"Resolved tasks like {first_line(words, 80)}", [_mrkdwn_section(body)]


def answered_elsewhere_comment(title: str, url: str) -> str:
    """The comment that closes a question answered by an earlier task (plain text: Asana shows it as written)."""
    return f"Answered by an earlier task: {first_line(title)} ({url}). Closed from Slack by the asker."
