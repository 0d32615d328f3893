"""Suggesting past answers: what a resolved task's entry in the index holds, which words a question is searched
by, which matches are shown, and what deflections saved. Pure.

The rules, so that a suggestion can be checked by hand:
- The answer of a task is what people other than the asker wrote on it (Asana comments and Slack thread replies),
  the last ones first, up to `ANSWER_LIMIT` characters; who answered is their names, the last first.
- A question is searched by its distinct words, lower case, without common words (`STOPWORDS`), at most
  `MAX_TERMS` of them; a question with no such word is not searched.
- A match's score is the engine's rank divided by the number of the question's words (so that a long question
  does not clear the threshold by length alone); the engine ranks a title word above a word of the notes or of
  the answer. Matches are shown when the best one clears `min_score`, best first, at most `max_results`.
- Privacy: a match is shown only if it belongs to a project the asking channel's link covers (its project and
  the combined projects of its policy), was asked in the same Slack workspace, and, when it was asked in a private
  channel, in that same channel. Its answer is quoted only to an asker who is a member of one of its projects in
  Asana; others see the title and link only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bridge.domain.model import AsanaUserGid, ChannelId, ProjectGid, SlackUserId, TaskGid, TeamId

MAX_TERMS = 24
ANSWER_LIMIT = 4000
EXCERPT_LIMIT = 220
_WORD = re.compile(r"[a-z0-9]+")
_COMMON_WORDS = """
    a an the and or of to in on for is are was were be been being i you he she it we they me my your our us
    this that these those with at by from as do does did done have has had can could would should will shall may
    might must what which who whom whose where when why how not no yes if then so but any some all there here
    about into than too very just also get got anyone anybody someone please thanks thank hi hello hey regards
    know need want like one its im dont cant ive id there their them am"""
STOPWORDS = frozenset(_COMMON_WORDS.split())


def terms(text: str) -> tuple[str, ...]:
    """The words a question is searched by: distinct, lower case, without common words, at most MAX_TERMS.
    Only letters and digits survive, so the terms are safe inside either engine's query syntax."""
    words = (w for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1)
    return tuple(dict.fromkeys(words))[:MAX_TERMS]


@dataclass(frozen=True)
class Answer:
    """A tracked task in the index: searchable once resolved (`resolved_at` set)."""

    task_gid: TaskGid
    team_id: TeamId
    channel_id: ChannelId
    project_gids: tuple[ProjectGid, ...]
    title: str
    permalink_url: str
    asked_at: datetime
    notes: str = ""
    answer: str = ""
    answered_by: tuple[str, ...] = ()
    asker: AsanaUserGid | None = None
    private: bool = False
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class Reply:
    """One comment or thread reply on a tracked task, as the relay read it."""

    text: str
    author_name: str
    by_asker: bool


def with_replies(answer: Answer, replies: Sequence[Reply]) -> Answer:
    """The answer with these replies (oldest first, as read) put in front; the asker's own are left out."""
    kept = [r for r in replies if not r.by_asker and r.text.strip()]
    if not kept:
        return answer
    text = "\n\n".join([*(r.text.strip() for r in reversed(kept)), answer.answer]).strip()[:ANSWER_LIMIT]
    names = tuple(dict.fromkeys([*(r.author_name for r in reversed(kept) if r.author_name), *answer.answered_by]))
    return replace(answer, answer=text, answered_by=names[:5])


@dataclass(frozen=True)
class Match:
    """A resolved task the engine found, with its score (higher is closer)."""

    answer: Answer
    score: float


@dataclass(frozen=True)
class Scope:
    """Where a question asked in a channel may find answers."""

    team_id: TeamId
    channel_id: ChannelId
    project_gids: tuple[ProjectGid, ...]


def scope_for(team_id: TeamId, channel_id: ChannelId, project_gid: ProjectGid, combined: Iterable[str]) -> Scope:
    return Scope(team_id, channel_id, tuple(dict.fromkeys([project_gid, *(ProjectGid(g) for g in combined)])))


def allowed(answer: Answer, scope: Scope) -> bool:
    """The privacy rule, checked again on what the store returned (the query applies it too)."""
    return (
        answer.team_id == scope.team_id
        and bool(set(answer.project_gids) & set(scope.project_gids))
        and (not answer.private or answer.channel_id == scope.channel_id)
    )


def chosen(
    matches: Sequence[Match], scope: Scope, *, min_score: float, max_results: int, exclude: str = ""
) -> list[Match]:
    """The matches to show: none unless the best allowed one clears min_score; then the best, at most max_results."""
    kept = sorted(
        (m for m in matches if allowed(m.answer, scope) and m.answer.task_gid != exclude and m.answer.resolved_at),
        key=lambda m: -m.score,
    )
    if not kept or kept[0].score < min_score:
        return []
    return [m for m in kept if m.score >= min_score][: max(0, max_results)]


def excerpt(answer: Answer) -> str:
    """Two lines of the answer (the last reply first): what the suggestion quotes."""
    lines = [line.strip() for line in answer.answer.splitlines() if line.strip()][:2]
    text = "\n".join(lines)
    return text if len(text) <= EXCERPT_LIMIT else text[: EXCERPT_LIMIT - 1].rstrip() + "…"


class Outcome(StrEnum):
    SUGGESTED = "suggested"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Deflection:
    """A suggestion posted in a new question's thread, and what the asker made of it."""

    task_gid: TaskGid
    team_id: TeamId
    channel_id: ChannelId
    thread_ts: str
    asker: SlackUserId
    suggested: tuple[TaskGid, ...]
    asked_at: datetime
    suggested_at: datetime
    message_ts: str | None = None
    outcome: Outcome = Outcome.SUGGESTED
    decided_at: datetime | None = None
    decided_by: SlackUserId | None = None


def may_decide(deflection: Deflection, user: SlackUserId, *, email: str | None, triager: str | None) -> bool:
    """ "That answers it" (and "Not it") is the asker's call, or the triager's (named by email in the policy)."""
    is_triager = bool(email and triager and email.strip().lower() == triager.strip().lower())
    return user == deflection.asker or is_triager


@dataclass(frozen=True)
class DeflectionSummary:
    suggested: int
    accepted: int
    rejected: int
    saved: timedelta  # first-response time the accepted ones did not have to wait for


def summarize(deflections: Iterable[Deflection], *, typical_first_response: timedelta | None) -> DeflectionSummary:
    """Counts by outcome; each accepted suggestion saved the typical first response less the time it took the
    asker to accept (never below zero); with no typical first response known, nothing is claimed saved."""
    rows = list(deflections)
    accepted = [d for d in rows if d.outcome is Outcome.ACCEPTED]
    saved = timedelta(0)
    if typical_first_response is not None:
        for d in accepted:
            took = (d.decided_at or d.suggested_at) - d.asked_at
            saved += max(timedelta(0), typical_first_response - took)
    return DeflectionSummary(
        suggested=len(rows),
        accepted=len(accepted),
        rejected=sum(1 for d in rows if d.outcome is Outcome.REJECTED),
        saved=saved,
    )
