"""The capture use case on fakes: which Asana calls a /task or a captured message makes, what Slack is told, and
what is kept — the running-bridge tests (tests/integration/test_capture*.py) keep the paths end to end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from bridge import wording
from bridge.domain.model import AsanaUserGid, MessageTs, ProjectGid, SlackUserId
from bridge.domain.policy import Policy
from bridge.domain.policy_parsing import parse_policy
from bridge.domain.work import AsanaUser, CustomField, EnumOption, Section, TaskDraft
from bridge.errors import AsanaUnavailable
from bridge.services.capture import Capture
from bridge.services.capture_request import AlreadyCaptured, Captured, CaptureRequest
from bridge.services.capture_retries import capture_with_retries
from bridge.services.cards import Cards
from bridge.services.errors import UserError
from bridge.services.outbox import thread_key
from bridge.services.people import People
from tests.unit.fakes import (
    CHANNEL,
    PROJECT,
    TEAM,
    FakeAsana,
    FakeClock,
    FakeSlack,
    FakeStore,
    Person,
    a_link,
)

ANA, BO, NOBODY = SlackUserId("U1"), SlackUserId("U2"), SlackUserId("U3")
MESSAGE = MessageTs("1700000000.000500")
SLA = {"sla": {"P1": {"first_response": "4h", "resolution": "2d"}}}


@dataclass
class World:
    capture: Capture
    asana: FakeAsana
    slack: FakeSlack
    store: FakeStore

    def drafts(self) -> list[TaskDraft]:
        return [call[1] for call in self.asana.calls if call[0] == "create_task"]


def world(policy: Policy | None = None) -> World:
    store, clock = FakeStore(), FakeClock()
    slack = FakeSlack(
        {
            ANA: Person("Ana", "ana@example.com"),
            BO: Person("Bo", "bo@example.com"),
            NOBODY: Person("Cy", "cy@elsewhere.example"),
        }
    )
    asana = FakeAsana(
        users=[
            AsanaUser(AsanaUserGid("a1"), "Ana", "ana@example.com"),
            AsanaUser(AsanaUserGid("b2"), "Bo", "bo@example.com"),
        ]
    )
    asana.fields[PROJECT] = [CustomField("f1", "Priority", "enum", (EnumOption("o-p1", "P1"),))]
    asana.sections[PROJECT] = [Section("s-triage", "Needs triage"), Section("s-p1", "P1")]
    store.links[(TEAM, CHANNEL)] = a_link()
    policy = policy or Policy()
    people = People(store=store, slack=slack, asana=asana, clock=clock)
    cards = Cards(links=store, captures=store, slack=slack, people=people, clock=clock, policy=policy)
    capture = Capture(
        links=store,
        tasks=store,
        captures=store,
        posts=store,
        asana=asana,
        slack=slack,
        people=people,
        clock=clock,
        policy=policy,
        cards=cards,
    )
    return World(capture, asana, slack, store)


def task(title: str = "Webhook retries", **options: Any) -> CaptureRequest:
    return CaptureRequest(TEAM, CHANNEL, ANA, title, **options)


def message(**options: Any) -> CaptureRequest:
    return task("Why do webhooks retry?", source_ts=MESSAGE, **options)


async def test_a_task_command_makes_one_task_posts_its_card_and_links_back_to_it() -> None:
    w = world()
    captured = await w.capture.capture(task(assignee=BO, due=date(2026, 12, 4)))
    assert isinstance(captured, Captured)
    [draft] = w.drafts()
    assert (draft.name, draft.project_gid, draft.section_gid) == ("Webhook retries", PROJECT, "s-triage")
    assert (draft.assignee, draft.followers, draft.due_on) == ("b2", ("a1",), date(2026, 12, 4))
    [card] = w.slack.posts
    assert (card.channel, card.thread_ts, card.metadata) == (
        CHANNEL,
        None,
        {"event_type": "asana_bridge_post", "event_payload": {"key": thread_key(captured.task.gid)}},
    )
    tracked = w.store.tasks[captured.task.gid]
    assert (tracked.thread_ts, tracked.requester, captured.thread_ts) == (card.ts, ANA, card.ts)
    [link_back] = [call for call in w.asana.writes() if call[0] == "update_task"]
    assert "html_notes" in link_back[2]
    assert [call[0] for call in w.asana.writes()] == ["create_task", "update_task"]  # no subtask without an SLA


async def test_a_captured_message_gets_its_card_in_its_own_thread_and_no_link_back() -> None:
    w = world()
    captured = await w.capture.capture(message())
    assert isinstance(captured, Captured)
    [card] = w.slack.posts
    assert card.thread_ts == MESSAGE and captured.thread_ts == MESSAGE
    assert [call[0] for call in w.asana.writes()] == ["create_task"]
    assert w.store.captures[(TEAM, CHANNEL, MESSAGE)].task_gid == captured.task.gid
    assert "[slack:T1/C1/1700000000.000500]" in (w.drafts()[0].html_notes or "")


async def test_a_message_is_captured_once() -> None:
    w = world()
    first = await w.capture.capture(message())
    again = await w.capture.capture(message(actor=BO))  # a second reaction
    assert isinstance(first, Captured)
    assert again == AlreadyCaptured(first.task.gid, first.task.permalink_url)
    assert len(w.drafts()) == 1 and len(w.slack.posts) == 1


async def test_a_priority_picks_its_option_and_section_and_the_sla_sets_the_due_date_and_acknowledgement() -> None:
    w = world(parse_policy(SLA))
    captured = await w.capture.capture(task(priority="p1"))
    assert isinstance(captured, Captured)
    [draft] = w.drafts()
    assert (draft.custom_fields, draft.section_gid) == ({"f1": "o-p1"}, "s-p1")
    assert draft.due_on == date(2026, 12, 2)  # 2 business days from Monday 9:00
    assert ("create_subtask", captured.task.gid, wording.ACKNOWLEDGE_SUBTASK) in w.asana.calls
    assert w.store.tasks[captured.task.gid].ack_subtask_gid is not None


@pytest.mark.parametrize(
    ("request_", "said", "channel"),
    [
        (task(assignee=NOBODY), wording.unknown_person(NOBODY), CHANNEL),
        (task(priority="P7"), wording.unknown_priority("P7"), CHANNEL),
        (task(), wording.NOT_LINKED, "C-unlinked"),
        (task(project_gid=ProjectGid("999")), wording.NOT_LINKED, CHANNEL),
    ],
    ids=["unmapped assignee", "unknown priority", "unlinked channel", "project no channel links"],
)
async def test_a_request_that_cannot_be_met_is_refused_and_nothing_is_half_made(
    request_: CaptureRequest, said: str, channel: str
) -> None:
    w = world()
    if channel != CHANNEL:
        w.store.links.clear()
    with pytest.raises(UserError) as refused:
        await w.capture.capture(request_)
    assert str(refused.value) == said
    assert (w.asana.writes(), w.slack.posts, w.store.tasks) == ([], [], {})


@pytest.mark.parametrize(
    ("sent", "still_claimed"), [(False, False), (True, True)], ids=["never reached Asana", "may have landed"]
)
async def test_a_failed_capture_frees_its_message_unless_the_task_may_exist(sent: bool, still_claimed: bool) -> None:
    w = world()
    w.asana.failures["create_task"] = [AsanaUnavailable("503", status=503, sent=sent)]
    with pytest.raises(AsanaUnavailable):
        await w.capture.capture(message())
    assert ((TEAM, CHANNEL, MESSAGE) in w.store.captures) is still_claimed
    assert w.slack.posts == []


async def test_combined_projects_get_the_task_too_except_the_links_own() -> None:
    w = world(parse_policy({"capture": {"combined_projects": ["300", PROJECT, "301", "300"]}}))
    captured = await w.capture.capture(task())
    assert isinstance(captured, Captured)
    added = [call[1:3] for call in w.asana.calls if call[0] == "add_to_project"]
    assert added == [(captured.task.gid, "300"), (captured.task.gid, "301")]


async def test_a_kept_command_is_forgotten_once_done() -> None:
    w = world()
    request = task(request_key="trigger-1")
    await w.capture.recovery.keep_commands([request])
    assert list(w.store.commands) == ["trigger-1"]
    await w.capture.capture(request)
    await w.capture.recovery.forget_command(request)
    assert w.store.commands == {}


# --- through Asana's outages (capture_with_retries): the person always hears how it ended ------------------------


async def retried(w: World, request: CaptureRequest, told: list[str]) -> Captured | AlreadyCaptured | None:
    async def tell(text: str) -> None:
        told.append(text)

    return await capture_with_retries(w.capture, request, tell, delays=(0.0, 0.0))


async def test_a_capture_through_an_outage_tells_the_delay_then_the_landing() -> None:
    w = world()
    w.asana.failures["create_task"] = [AsanaUnavailable("503", status=503, sent=False)] * 2
    told: list[str] = []
    captured = await retried(w, task(), told)
    assert isinstance(captured, Captured)
    assert told == [wording.ASANA_RETRYING.format(reason="503"), wording.task_landed(captured.task)]
    assert len(w.drafts()) == 3 and len(w.asana.tasks) == 1


async def test_one_refusal_put_right_by_the_first_retry_is_not_told() -> None:
    # Told only once a retry failed too: the first refusal can beat the ack's own answer to the person.
    w = world()
    w.asana.failures["create_task"] = [AsanaUnavailable("503", status=503, sent=False)]
    told: list[str] = []
    assert isinstance(await retried(w, task(), told), Captured)
    assert told == [] and len(w.asana.tasks) == 1


async def test_a_task_whose_answer_was_lost_is_found_not_made_twice() -> None:
    w = world()
    w.asana.lost_answers["create_task"] = [AsanaUnavailable("timeout", sent=True)]
    captured = await retried(w, message(), [])
    assert isinstance(captured, Captured)
    assert len(w.drafts()) == 1 and list(w.asana.tasks) == [captured.task.gid]
    assert len(w.slack.posts) == 1


async def test_after_the_last_try_the_person_hears_it_was_not_created() -> None:
    w = world()
    w.asana.failures["create_task"] = [AsanaUnavailable("503", status=503, sent=False)] * 3
    told: list[str] = []
    assert await retried(w, task("Fix <login>"), told) is None
    assert told[-1] == wording.CAPTURE_GAVE_UP.format(title="Fix &lt;login&gt;")
    assert (w.asana.tasks, w.slack.posts) == ({}, [])
