"""Suggestions: a new question gets the earlier answers that may settle it, in its thread, at once; the asker
settles it with a click ("That answers it" closes the new task, "Not it" hides the suggestion), and
`/asana similar` searches on demand. What the asker may see is decided by domain.suggest (the privacy rules)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

from bridge import wording
from bridge.domain.model import AsanaUserGid, ChannelId, Link, MessageTs, ProjectGid, SlackUserId, TaskGid, TeamId
from bridge.domain.policy import Policy
from bridge.domain.relay import next_snapshot
from bridge.domain.suggest import Deflection, Match, Outcome, Scope, chosen, may_decide, scope_for, terms
from bridge.domain.work import Task
from bridge.errors import SlackError
from bridge.ports import AnswerStore, Clock
from bridge.services.access import Access
from bridge.services.capture_request import Captured, CaptureRequest
from bridge.services.cards import Cards

log = logging.getLogger(__name__)

# Thresholds on the score (rank / number of question words) chosen by bench/suggest.py on its labelled set.
DEFAULT_MIN_SCORE = {"sqlite": 0.75, "postgresql": 0.175}


class SuggestAsana(Protocol):
    async def update_task(self, task_gid: str, changes: dict[str, Any]) -> Task: ...

    async def comment(self, task_gid: str, text: str) -> str: ...


class SuggestPosts(Protocol):
    async def post_message(
        self, channel: str, text: str, *, blocks: list[dict[str, Any]] | None = None, thread_ts: str | None = None
    ) -> MessageTs: ...

    async def update_message(
        self, channel: str, ts: str, text: str, *, blocks: list[dict[str, Any]] | None = None
    ) -> None: ...

    async def user_email(self, user_id: str) -> str | None: ...


class SuggestSlack(Protocol):
    def for_team(self, team_id: str) -> SuggestPosts: ...


class AskerOf(Protocol):
    async def __call__(self, team_id: TeamId, user: SlackUserId, link: Link) -> AsanaUserGid | None: ...


class Suggestions:
    def __init__(
        self,
        *,
        store: AnswerStore,
        asana: SuggestAsana,
        slack: SuggestSlack,
        clock: Clock,
        policy: Policy,
        asker_of: AskerOf,
        engine: str,
        access: Access,
        cards: Cards,
    ) -> None:
        self._access = access  # who may read a project's tasks, as Asana decides (privacy, team, members, guests)
        self._cards = cards
        self._store = store
        self._asana = asana
        self._slack = slack
        self._clock = clock
        self._policy = policy
        self._asker_of = asker_of
        self._default_min_score = DEFAULT_MIN_SCORE.get(engine, 0.0)

    async def after_capture(self, *, link: Link, task: Task, thread_ts: str, asker: SlackUserId, question: str) -> None:
        """Reply in the new question's thread with earlier answers, when the best one clears the threshold. Once
        per question (a repeated capture finds its suggestion recorded). A failure is logged: the capture stands."""
        try:
            await self._suggest(link=link, task=task, thread_ts=thread_ts, asker=asker, question=question)
        except Exception:
            log.exception("could not suggest answers for task %s", task.gid)

    async def for_capture(self, captured: Captured, request: CaptureRequest) -> None:
        """Capture's hook: a captured message is searched by its whole text, a /task by its title."""
        question = f"{request.title}\n{request.notes}" if request.source_ts else request.title
        await self.after_capture(
            link=captured.link,
            task=captured.task,
            thread_ts=captured.thread_ts,
            asker=request.requester,
            question=question,
        )

    async def _suggest(self, *, link: Link, task: Task, thread_ts: str, asker: SlackUserId, question: str) -> None:
        policy = self._policy.for_project(link.project_gid)
        if not policy.suggest.enabled:
            return
        matches = await self._search(link, question, exclude=task.gid)
        if not matches:
            return
        now = self._clock.now()
        deflection = Deflection(
            task_gid=task.gid,
            team_id=link.team_id,
            channel_id=link.channel_id,
            thread_ts=thread_ts,
            asker=asker,
            suggested=tuple(m.answer.task_gid for m in matches),
            asked_at=now,
            suggested_at=now,
        )
        if not await self._store.add_deflection(deflection):
            return
        quoted = await self._quotable(matches, link, asker)
        text, post = wording.suggestion(matches, task_gid=task.gid, quoted=quoted)
        slack = self._slack.for_team(link.team_id)
        ts = await slack.post_message(link.channel_id, text, blocks=post, thread_ts=thread_ts)
        await self._store.set_deflection_message(task.gid, ts)
        log.info("suggested %d earlier answers for task %s", len(matches), task.gid)

    async def similar(
        self, team_id: TeamId, channel_id: ChannelId, user: SlackUserId, words: str
    ) -> tuple[str, wording.Blocks]:
        """`/asana similar <words>`: the same search, answered to that person only."""
        if not words.strip():
            return wording.SIMILAR_USAGE, []
        link = await self._store.get_link(team_id, channel_id)
        if link is None:
            return wording.NOT_LINKED, []
        matches = await self._search(link, words, threshold=False)
        return wording.similar_results(words, matches, quoted=await self._quotable(matches, link, user))

    async def settle(
        self, team_id: TeamId, task_gid: TaskGid, user: SlackUserId, *, accepted: bool, message_ts: str | None = None
    ) -> str | None:
        """A click in workspace `team_id` on "That answers it" or "Not it" (on the message at `message_ts`); returns
        a note for the clicker when nothing was done."""
        slack = self._slack.for_team(team_id)
        deflection = await self._store.get_deflection(task_gid)
        if deflection is None or deflection.outcome is not Outcome.SUGGESTED:
            return wording.SUGGEST_ALREADY_DECIDED
        if deflection.message_ts is None and message_ts:
            # A click quicker than the record of the post it clicked on: the click names the message.
            deflection = replace(deflection, message_ts=message_ts)
        tracked = await self._store.get_tracked_task(task_gid)
        triager = self._policy.for_project(tracked.project_gid).triage.triager if tracked else None
        email = await slack.user_email(user) if user != deflection.asker and triager else None
        if not may_decide(deflection, user, email=email, triager=triager):
            return wording.SUGGEST_NOT_YOURS
        outcome = Outcome.ACCEPTED if accepted else Outcome.REJECTED
        if not await self._store.decide_deflection(task_gid, outcome, at=self._clock.now(), by=user):
            return wording.SUGGEST_ALREADY_DECIDED
        if not accepted:
            if deflection.message_ts:
                await slack.update_message(deflection.channel_id, deflection.message_ts, wording.SUGGESTION_HIDDEN)
            return None
        await self._close(slack, deflection, user)
        return None

    async def _close(self, slack: SuggestPosts, deflection: Deflection, user: SlackUserId) -> None:
        """The new question is answered by the first suggested task: say so in Asana, complete it, tell the thread."""
        best = await self._store.get_answer(deflection.suggested[0])
        title, url = (best.title, best.permalink_url) if best else ("an earlier task", "")
        await self._asana.comment(deflection.task_gid, wording.answered_elsewhere_comment(title, url))
        task = await self._asana.update_task(deflection.task_gid, {"completed": True})
        tracked = await self._store.get_tracked_task(deflection.task_gid)
        if tracked is not None:
            # The bridge's own change is not echoed by the relay: keep the snapshot and the root message current here.
            snapshot = next_snapshot(tracked.snapshot, task.raw, now=self._clock.now(), project_gid=tracked.project_gid)
            updated = replace(tracked, snapshot=snapshot, completed=True, updated_at=self._clock.now())
            await self._store.save_tracked_task(updated)
            with contextlib.suppress(SlackError):  # the card tells it too; the thread's line says it anyway
                await self._cards.refresh(updated)
        if deflection.message_ts:
            text, post = wording.suggestion_accepted(title, url, user)
            await slack.update_message(deflection.channel_id, deflection.message_ts, text, blocks=post)

    async def _search(self, link: Link, question: str, *, exclude: str = "", threshold: bool = True) -> list[Match]:
        policy = self._policy.for_project(link.project_gid)
        scope = scope_for(link.team_id, link.channel_id, link.project_gid, policy.capture.combined_projects)
        words = terms(question)
        found = await self._store.search_answers(words, scope, limit=policy.suggest.max_results + 1)
        min_score = policy.suggest.min_score if policy.suggest.min_score is not None else self._default_min_score
        return chosen(
            found,
            scope,
            min_score=min_score if threshold else 0.0,
            max_results=policy.suggest.max_results,
            exclude=exclude,
        )

    async def _quotable(self, matches: Sequence[Match], link: Link, asker: SlackUserId) -> set[str]:
        """The matches whose answer the asker could read in Asana: they are a member of one of its projects that
        the link covers. An asker unknown in Asana sees titles and links only."""
        if not matches:
            return set()
        me = await self._asker_of(link.team_id, asker, link)
        if me is None:
            return set()
        scope: Scope = scope_for(
            link.team_id,
            link.channel_id,
            link.project_gid,
            self._policy.for_project(link.project_gid).capture.combined_projects,
        )
        quoted: set[str] = set()
        for match in matches:
            for project in set(match.answer.project_gids) & set(scope.project_gids):
                if await self._access.refusal(ProjectGid(project), link.workspace_gid, me) is None:
                    quoted.add(match.answer.task_gid)
                    break
        return quoted
