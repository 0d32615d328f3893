"""Task cards: each task's one live post, drawn by one builder from the tracked task's snapshot and redrawn in place
after anything changes it (a relayed Asana change, a button, routing, a nag action).

The snapshot is what the relay and the buttons keep up to date, so drawing a card reads nothing from Asana; naming
the assignee may look them up in Slack once (People caches it). A failed redraw is logged: the next change draws
the whole card again, so nothing is lost by skipping one.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from bridge import wording
from bridge.domain.cards import CARD_TS, card_facts, card_ts
from bridge.domain.model import Link, MessageTs, TrackedTask
from bridge.domain.policy import Policy
from bridge.domain.work import custom_field, enabled_options
from bridge.errors import AsanaError, SlackError
from bridge.ports import CaptureStore, Clock, LinkReads, SlackTeams
from bridge.services.people import People

log = logging.getLogger(__name__)


class Cards:
    def __init__(
        self,
        *,
        links: LinkReads,
        captures: CaptureStore,
        slack: SlackTeams,
        people: People,
        clock: Clock,
        policy: Policy,
    ) -> None:
        self._links = links
        self._captures = captures
        self._slack = slack
        self._people = people
        self._clock = clock
        self._policy = policy

    async def draw(
        self, tracked: TrackedTask, link: Link | None, *, in_thread: bool | None = None
    ) -> tuple[str, wording.Blocks]:
        """The card of the task as its snapshot says now (a card in a captured message's thread says that replies
        there become comments)."""
        policy = self._policy.for_project(tracked.project_gid)
        priority_field = (link.priority_field_gid if link else None) or policy.triage.priority_field
        facts = card_facts(tracked, policy=policy, priority_field=priority_field, now=self._clock.now())
        assignee = None
        if facts.assignee is not None and link is not None:
            try:
                assignee = await self._people.slack_user(tracked.team_id, facts.assignee, link.workspace_gid)
            except (AsanaError, SlackError) as exc:  # the card names them instead
                log.info("no Slack user found for %s: %s", facts.assignee, exc)
        field = custom_field(tracked.snapshot, priority_field)
        where = card_ts(tracked)
        return wording.task_card(
            facts,
            assignee=assignee,
            priority_options=enabled_options(field) if field else None,
            in_thread=(where is not None and where != tracked.thread_ts) if in_thread is None else in_thread,
        )

    async def refresh(self, tracked: TrackedTask, link: Link | None = None) -> None:
        """Draw the task's card again in place (a subtask has none: its news is told in its parent's thread)."""
        if tracked.parent_gid is not None:
            return
        where = await self.where(tracked)
        if where is None:
            return
        link = link or await self._links.get_link(tracked.team_id, tracked.channel_id)
        text, card = await self.draw(tracked, link)
        try:
            slack = self._slack.for_team(tracked.team_id)
            await slack.update_message(tracked.channel_id, where, text, blocks=card)
        except SlackError as exc:
            log.warning("could not redraw the card of task %s: %s", tracked.task_gid, exc)

    async def where(self, tracked: TrackedTask) -> MessageTs | None:
        """The card's ts. A task followed before cards were kept has its post at the thread's root, unless that
        root is a person's captured message (which the bridge may not edit): then it has no card."""
        found = card_ts(tracked)
        if found is not None:
            return found
        captured = await self._captures.get_capture(tracked.team_id, tracked.channel_id, tracked.thread_ts)
        return None if captured is not None else tracked.thread_ts


def with_card(tracked: TrackedTask, ts: MessageTs) -> TrackedTask:
    """The tracked task remembering where its card is."""
    return replace(tracked, snapshot={**tracked.snapshot, CARD_TS: ts})
