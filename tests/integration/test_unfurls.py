"""Unfurls end to end (DESIGN §2.1): task links previewed, their buttons acting for the clicker; Asana calls counted."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from bridge.sandbox.asana.app import RecordedRequest
from bridge.sandbox.slack import Delivery, Unfurl, payloads
from bridge.sandbox.slack.blocks import interactive_elements
from tests.fixtures_bridge import Running
from tests.support import eventually

DUE = date(2026, 12, 4)


def _task(running: Running, name: str, *, project: str | None = None, **fields: Any) -> str:
    world = running.world
    return world.asana.act(world.asana_people["ana"]).create_task(name, project=project or world.project, **fields)


def _legacy_url(running: Running, task: str) -> str:
    return f"https://app.asana.com/0/{running.world.project}/{task}"


def _current_url(running: Running, task: str) -> str:
    world = running.world
    return f"https://app.asana.com/1/{world.workspace}/project/{world.project}/task/{task}?focus=true"


def _since(running: Running, mark: int) -> list[tuple[str, str]]:
    """The Asana calls the bridge made after `mark` (an index into the emulator's request log)."""
    return [(r.method, r.path) for r in running.world.asana.requests[mark:]]


def _requests(running: Running, method: str, path: str) -> list[RecordedRequest]:
    return [r for r in running.world.asana.requests if r.method == method and r.path == path]


def _comments(running: Running, task: str) -> list[str]:
    store = running.world.asana.store
    return [s.text for s in store.stories.values() if s.task == task and s.kind == "comment"]


def _unfurls(running: Running, url: str | None = None) -> list[Unfurl]:
    return [u for u in running.world.slack.unfurls() if url is None or u.url == url]


def _said_to(running: Running, name: str, words: str) -> list[str]:
    return [e.text for e in running.world.slack.ephemerals(name) if words in e.text]


async def _share(running: Running, who: str, urls: list[str]) -> str:
    """One message with several links: Slack sends a single link_shared naming them all (share_link sends one)."""
    ws = running.slack.workspace
    channel = ws.channel(running.world.channel)
    message = ws.post(channel, user=ws.user_named(who), text=" and ".join(f"<{url}>" for url in urls))
    await running.slack.message_events(channel, message)
    event = payloads.link_shared_event(channel, message, urls, unfurl_id=ws.minter.id("C"), bot_member=True)
    assert (await running.slack.send_event(event)).status == 200
    return message.ts


async def _click(running: Running, who: str, unfurl: Unfurl, action_id: str) -> Delivery:
    """Click a button of an unfurl as Slack reports it: a block action in a message attachment of someone's post."""
    ws = running.slack.workspace
    user = ws.user_named(who)
    channel = ws.channel(unfurl.channel)
    message = channel.find(unfurl.ts)
    assert message is not None
    block, element = next(
        (block, element)
        for block in unfurl.unfurl["blocks"]
        for element in interactive_elements(block)
        if element.get("action_id") == action_id
    )  # StopIteration when the preview shows no such button: a person cannot click it either
    action = {
        "action_id": action_id,
        "block_id": block["block_id"],
        "text": element["text"],
        "value": element["value"],
        "type": "button",
        "action_ts": ws.minter.ts(),
    }
    container = {
        "type": "message_attachment",
        "message_ts": unfurl.ts,
        "attachment_id": 1,
        "channel_id": channel.id,
        "is_ephemeral": False,
        "is_app_unfurl": True,
        "app_unfurl_url": unfurl.url,
    }
    payload = payloads.block_actions(
        ws,
        user,
        action,
        container=container,
        trigger_id=ws.mint_trigger(user.id),
        channel=channel,
        message=channel.message_json(message),
        response_url=running.world.slack.hooks.mint(ws, channel.id, user.id, original=message),
    )
    delivery = await running.slack.send_interactive(payload)
    assert delivery.status == 200
    return delivery


async def test_a_pasted_task_link_shows_the_task_with_one_asana_read(running: Running) -> None:
    world = running.world
    ana, bo = world.asana_people["ana"], world.asana_people["bo"]
    p1 = world.asana.option_gid(world.priority_field, "P1")
    task = _task(running, "Fix <login> & SSO", assignee=bo, due_on=DUE, custom_fields={world.priority_field: p1})
    mark = len(world.asana.requests)

    url = _legacy_url(running, task)
    delivery = await running.user("ana").share_link(world.channel, url)
    [unfurl] = await eventually(lambda: _unfurls(running, url))
    assert unfurl.ts == delivery.ts and unfurl.channel == world.channel
    section, actions = unfurl.unfurl["blocks"]
    assert (
        section["text"]["text"]
        == f"*<https://app.asana.com/1/{world.workspace}/task/{task}|Fix &lt;login&gt; &amp; SSO>*"
    )
    facts = [f["text"] for f in section["fields"]]
    bo_at = f"<@{world.slack_people['bo']}>"  # named with an @mention: Bo is in Slack
    assert facts == ["*Status*\nOpen", f"*Assignee*\n{bo_at}", "*Due*\nFri 04 Dec 2026", "*Priority*\nP1"]
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        ("unfurl_done", task),
        ("unfurl_assign_me", task),
    ]
    # One read per unfurl, and the first time Bo is named, his Asana user (to find him in Slack).
    assert _since(running, mark) == [("GET", f"/tasks/{task}"), ("GET", f"/users/{bo}")]

    world.asana.act(ana).complete(task)  # the current URL form, and a completed task offers no Done
    current = _current_url(running, task)
    await running.user("bo").share_link(world.channel, current)
    [later] = await eventually(lambda: _unfurls(running, current))
    section, actions = later.unfurl["blocks"]
    assert section["fields"][0]["text"] == "*Status*\n✅ Completed"
    assert [e["action_id"] for e in actions["elements"]] == ["unfurl_assign_me"]
    assert len(world.slack.calls_to("chat.unfurl")) == 2


async def test_an_unassigned_task_without_priority_or_due_says_so(running: Running) -> None:
    world = running.world
    task = _task(running, "Bare task")
    url = f"https://app.asana.com/1/{world.workspace}/task/{task}"
    await running.user("ana").share_link(world.channel, url)
    [unfurl] = await eventually(lambda: _unfurls(running, url))
    facts = [f["text"] for f in unfurl.unfurl["blocks"][0]["fields"]]
    assert facts == ["*Status*\nOpen", "*Assignee*\nUnassigned", "*Due*\nNo due date", "*Priority*\nNone"]


async def test_a_task_the_bridge_cannot_see_is_not_unfurled(running: Running) -> None:
    world = running.world
    ana = world.asana_people["ana"]
    secret = world.asana.add_project(world.workspace, "Secret", public=False, members=[ana])
    hidden = _task(running, "Salary review", project=secret)
    visible = _task(running, "Public roadmap")
    hidden_url = f"https://app.asana.com/0/{secret}/{hidden}"

    await running.user("ana").share_link(world.channel, hidden_url)
    [refused] = await eventually(lambda: _requests(running, "GET", f"/tasks/{hidden}"))
    assert refused.status == 403  # one read, not retried: a private task stays private
    await eventually(lambda: running.bridge.background.pending == 0)
    assert world.slack.calls_to("chat.unfurl") == []

    visible_url = _legacy_url(running, visible)
    await _share(running, "ana", [hidden_url, visible_url])  # one message: only the visible task is previewed
    await eventually(lambda: _unfurls(running, visible_url))
    assert len(world.slack.calls_to("chat.unfurl")) == 1
    assert [u.url for u in _unfurls(running)] == [visible_url]
    assert len(_requests(running, "GET", f"/tasks/{hidden}")) == 2 and len(world.asana.requests) < 10


async def test_the_same_task_twice_in_one_message_is_read_once(running: Running) -> None:
    world = running.world
    task = _task(running, "Rotate the webhook secret")
    other = _task(running, "Write the runbook")
    urls = [_legacy_url(running, task), _current_url(running, task), _legacy_url(running, task)]
    mark = len(world.asana.requests)
    await _share(running, "bo", [*urls, f"https://app.asana.com/0/{world.project}/list", _legacy_url(running, other)])
    await eventually(lambda: len(_unfurls(running)) == 3)
    assert sorted(_since(running, mark)) == sorted([("GET", f"/tasks/{task}"), ("GET", f"/tasks/{other}")])
    assert len(world.slack.calls_to("chat.unfurl")) == 1  # one call per message, whatever it links
    assert {u.url for u in _unfurls(running)} == {*urls, _legacy_url(running, other)}


async def test_done_completes_the_task_and_says_who_in_asana(running: Running) -> None:
    world = running.world
    task = _task(running, "Ship the release")
    url = _legacy_url(running, task)
    await running.user("bo").share_link(world.channel, url)
    unfurl = (await eventually(lambda: _unfurls(running, url)))[0]

    mark = len(world.asana.requests)
    await _click(running, "ana", unfurl, "unfurl_done")
    [told] = await eventually(lambda: _said_to(running, "ana", "done in Asana"))
    assert "Ship the release" in told
    assert world.asana.store.tasks[task].completed
    assert _comments(running, task) == ["Completed by ana from Slack"]
    # Cold mapping: find ana by email; then read the task, complete it, write the comment.
    assert _since(running, mark) == [
        ("GET", "/users/ana@example.com"),
        ("GET", f"/tasks/{task}"),
        ("PUT", f"/tasks/{task}"),
        ("POST", f"/tasks/{task}/stories"),
    ]
    assert world.slack.ephemerals("bo") == []  # only the clicker hears about it


async def test_assign_to_me_assigns_the_clicker_and_a_second_click_changes_nothing(running: Running) -> None:
    world = running.world
    task = _task(running, "Answer the SSO question", assignee=world.asana_people["ana"])
    url = _current_url(running, task)
    await running.user("ana").share_link(world.channel, url)
    unfurl = (await eventually(lambda: _unfurls(running, url)))[0]

    await _click(running, "bo", unfurl, "unfurl_assign_me")
    await eventually(lambda: _said_to(running, "bo", "now assigned to you"))
    assert world.asana.store.tasks[task].assignee == world.asana_people["bo"]
    assert _comments(running, task) == ["Assigned to Bo Chen by bo from Slack"]

    mark = len(world.asana.requests)
    await _click(running, "bo", unfurl, "unfurl_assign_me")
    await eventually(lambda: _said_to(running, "bo", "already assigned to you"))
    assert _comments(running, task) == ["Assigned to Bo Chen by bo from Slack"]
    assert _since(running, mark) == [("GET", f"/tasks/{task}")]  # warm mapping, nothing to change: one read


async def test_someone_without_an_asana_account_is_refused_and_nothing_changes(running: Running) -> None:
    world = running.world
    zed = world.slack.add_user("zed", "zed@elsewhere.example")
    running.slack.workspace.channel(world.channel).members.append(zed)
    task = _task(running, "Renew the certificate")
    url = _legacy_url(running, task)
    await running.user("ana").share_link(world.channel, url)
    unfurl = (await eventually(lambda: _unfurls(running, url)))[0]

    mark = len(world.asana.requests)
    await _click(running, "zed", unfurl, "unfurl_done")
    await _click(running, "zed", unfurl, "unfurl_assign_me")
    await eventually(lambda: len(_said_to(running, "zed", "nothing was changed")) == 2)
    refusals = _said_to(running, "zed", "nothing was changed")
    assert all("matches no user of the bridge's Asana workspace" in text for text in refusals)
    assert not world.asana.store.tasks[task].completed and world.asana.store.tasks[task].assignee is None
    assert _comments(running, task) == []
    assert {method for method, _ in _since(running, mark)} == {"GET"}  # at most the email lookup: no writes


async def test_a_double_click_completes_once_and_writes_one_comment(running: Running) -> None:
    world = running.world
    task = _task(running, "Close the incident")
    url = _legacy_url(running, task)
    await running.user("bo").share_link(world.channel, url)
    unfurl = (await eventually(lambda: _unfurls(running, url)))[0]

    # Slow reads keep both clicks in flight together, as a real double click on a slow day would.
    world.asana.faults.add(method="GET", path_pattern=rf"^/tasks/{task}$", delay=0.3, times=2)
    await asyncio.gather(_click(running, "cy", unfurl, "unfurl_done"), _click(running, "cy", unfurl, "unfurl_done"))
    await eventually(lambda: _said_to(running, "cy", "done in Asana") and _said_to(running, "cy", "already completed"))
    assert world.asana.store.tasks[task].completed
    assert _comments(running, task) == ["Completed by cy from Slack"]
    assert len(_requests(running, "PUT", f"/tasks/{task}")) == 1
