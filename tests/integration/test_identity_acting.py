"""Acting as the person (issue #20, points 2-5), through the running bridge against the emulators: a connected
person's /task, thread reply and nag buttons are theirs in Asana; someone not connected is acted for by the bridge,
on their behalf, and offered once to connect; a 403 with a person's token is told privately and never retried as
the bridge; what the bridge wrote with a person's token is not echoed into the thread; an ending token is renewed,
a refused renewal forgets the connection and says so; `[identity] require_connected` refuses people not connected."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any, cast

import pytest

from bridge import wording
from bridge.adapters.store.sql_store import SqlStore
from bridge.bootstrap import build_identities
from bridge.domain.model import SlackUserId, TeamId, TrackedTask
from bridge.sandbox.world import World
from bridge.services.identity import Identities
from tests.fixtures_bridge import Running
from tests.integration.test_identity_connect import connect
from tests.integration.test_nag_buttons import _nag, _outcome
from tests.support import eventually


@pytest.fixture
def asana_oauth(world: World) -> bool:
    return True


def _ids(running: Running, name: str) -> tuple[TeamId, SlackUserId]:
    return TeamId(running.world.slack.team.team_id), SlackUserId(running.world.slack_people[name])


def _replica_identities(running: Running, store: SqlStore) -> Identities:
    """The identity service as another replica builds it: its own store connection, the same Asana app."""
    bridge = running.bridge
    return build_identities(
        bridge.settings,
        store,
        bridge.asana,
        bridge.slack,
        bridge.clock,
        workspace_gid=lambda: running.world.workspace,
        bridge_user=lambda: running.world.bridge_user,
    )


def _dms(running: Running, name: str) -> list[str]:
    return [m.text for m in running.world.slack.messages(running.world.slack_people[name])]


async def _connected(running: Running, name: str) -> None:
    status, page = await connect(running, name)
    assert status == 200, page


async def _settled(running: Running, done_before: int) -> None:
    """Asana delivered what happened and the bridge has relayed all of it (at least one event more than before)."""
    await running.world.asana.deliveries_idle(timeout=10)

    async def quiet() -> bool | None:
        counts = await running.bridge.store.inbox_counts()
        return (counts["pending"] == 0 and counts["landed"] == 0 and counts["done"] > done_before) or None

    settled: bool = await eventually(quiet, timeout=10)
    assert settled
    await eventually(lambda: running.bridge.background.pending == 0)


async def _done(running: Running) -> int:
    return (await running.bridge.store.inbox_counts())["done"]


def _bridge_replies(running: Running, tracked: TrackedTask) -> list[str]:
    thread = running.world.slack.thread(running.world.channel, tracked.thread_ts)
    return [m.text for m in thread[1:] if m.user == running.world.slack.team.bot.user_id]


def _calls(running: Running, mark: int) -> list[tuple[str, str, str | None]]:
    """(method, path, who) of the Asana calls after `mark`, polling left out."""
    people = {gid: name for name, gid in running.world.asana_people.items()}
    people[running.world.bridge_user] = "bridge"
    return [
        (r.method, r.path, people.get(r.user or ""))
        for r in running.world.asana.requests[mark:]
        if not r.path.startswith(("/events", "/webhooks"))
    ]


async def test_a_connected_persons_task_is_theirs_and_someone_elses_is_made_on_their_behalf(running: Running) -> None:
    world = running.world
    await _connected(running, "ana")
    mark = running.asana_mark()
    mine = await running.slash_task("Fix the login page", by="ana", title="Fix the login page")
    task = world.asana.store.tasks[mine.task_gid]
    assert task.created_by == world.asana_people["ana"]
    assert world.bridge_user in task.followers  # so the bridge can still read and relay it
    assert "on behalf of" not in task.notes
    created = [c for c in _calls(running, mark) if c[:2] == ("POST", "/tasks")]
    assert created == [("POST", "/tasks", "ana")]

    mark = running.asana_mark()
    theirs = await running.slash_task("Update the docs", by="bo", title="Update the docs")
    task = world.asana.store.tasks[theirs.task_gid]
    assert task.created_by == world.bridge_user
    assert wording.on_behalf_of("bo") in task.notes
    assert [c for c in _calls(running, mark) if c[:2] == ("POST", "/tasks")] == [("POST", "/tasks", "bridge")]
    # Bo is offered once to connect (in a DM), not on every action.
    offers = await eventually(lambda: [t for t in _dms(running, "bo") if "on your behalf" in t])
    await running.slash_task("Update the FAQ", by="bo", title="Update the FAQ")
    assert [t for t in _dms(running, "bo") if "on your behalf" in t] == offers
    assert not [t for t in _dms(running, "ana") if "on your behalf" in t]


async def test_no_access_with_a_persons_token_is_told_privately_and_never_retried_as_the_bridge(
    running: Running,
) -> None:
    world = running.world
    private = world.asana.add_project(
        world.workspace, "Payroll", ("Needs triage",), public=False, members=[world.bridge_user]
    )
    channel = world.slack.add_channel("payroll", members=[*world.slack_people.values(), world.slack.team.bot.user_id])
    await running.user("ana").slash_command("/asana", f"link {private}", channel)
    await eventually(lambda: [w for w in world.asana.webhooks if w.resource == private])
    await _connected(running, "ana")
    mark = running.asana_mark()
    await running.user("ana").slash_command("/task", "Raise for Bo", channel)
    said = await eventually(lambda: [e.text for e in world.slack.ephemerals("ana") if "no access" in e.text])
    [told] = said
    assert told.startswith(wording.no_access("Payroll"))  # then what was typed, to fix and send again
    assert [c for c in _calls(running, mark) if c[0] == "POST"] == [("POST", "/tasks", "ana")]
    assert not [t for t in world.asana.store.tasks.values() if t.name == "Raise for Bo"]


async def test_a_connected_persons_completion_comment_and_reassignment_are_told_once_never_echoed(
    running: Running,
) -> None:
    world = running.world
    await _connected(running, "ana")
    tracked = await running.slash_task("Ship the release", by="ana", title="Ship the release")
    ana = world.asana_people["ana"]

    # Reassign from a nag: the nag says so; the relay does not tell it again.
    nag = await _nag(running, tracked)
    done = await _done(running)
    await running.user("ana").select_user(nag, wording.NAG_REASSIGN, world.slack_people["cy"])
    reassigned = f"👤 Reassigned to <@{world.slack_people['cy']}> by <@{world.slack_people['ana']}>."
    assert await eventually(lambda: _outcome(running, nag)) == reassigned
    await _settled(running, done)
    task = world.asana.store.tasks[tracked.task_gid]
    assert task.assignee == world.asana_people["cy"]
    comments = [s for s in world.asana.store.stories.values() if s.task == task.gid and s.kind == "comment"]
    assert [s.created_by for s in comments] == [ana]  # the nag's note is Ana's own comment

    # A reply in the thread becomes Ana's own comment, not signed by the bridge, and is not told back.
    done = await _done(running)
    await running.user("ana").post_message(world.channel, "Release notes are in the wiki", thread_ts=tracked.thread_ts)
    story = await eventually(
        lambda: [s for s in world.asana.store.stories.values() if s.text == "Release notes are in the wiki"]
    )
    assert story[0].created_by == ana
    await _settled(running, done)

    # Done from a nag: the nag and the task's post say it; the relay does not.
    nag = await _nag(running, tracked, period="again")
    done = await _done(running)
    await running.user("ana").click_button(nag, wording.NAG_DONE)
    assert await eventually(lambda: _outcome(running, nag)) == f"✅ Marked done by <@{world.slack_people['ana']}>."
    await _settled(running, done)
    assert world.asana.store.tasks[tracked.task_gid].completed_by == ana
    replies = _bridge_replies(running, tracked)
    assert len(replies) == 2 and all(r.startswith("⏰") for r in replies), replies  # the two nags; nothing relayed
    card = running.slack.workspace.channel(world.channel).find(tracked.thread_ts)
    assert card is not None and card.text.startswith("✅ ~")  # the card, drawn again: done, its title struck

    # The same changes made by someone in Asana are told: the bridge recognises its own writes, not the person.
    done = await _done(running)
    world.asana.act(ana).complete(tracked.task_gid, completed=False)
    await _settled(running, done)
    assert len(_bridge_replies(running, tracked)) == 3


async def test_an_ending_token_is_renewed_once_and_a_refused_renewal_forgets_the_connection(running: Running) -> None:
    world = running.world
    store: Any = running.bridge.store
    await _connected(running, "ana")
    connection = await store.get_connection(*_ids(running, "ana"))
    await store.save_connection(replace(connection, expires_at=running.bridge.clock.now() + timedelta(minutes=1)))
    await running.slash_task("Renew me", by="ana", title="Renew me")
    refreshes = [r for r in world.asana.oauth.requests if r.form.get("grant_type") == "refresh_token"]
    assert [r.status for r in refreshes] == [200]
    renewed = await store.get_connection(*_ids(running, "ana"))
    assert renewed.access_token != connection.access_token
    assert renewed.expires_at > running.bridge.clock.now() + timedelta(minutes=50)
    assert (
        world.asana.store.tasks[next(t for t in running.asana_tasks() if t.name == "Renew me").gid].created_by
        == (world.asana_people["ana"])
    )

    # Ana removes the app in Asana: the next renewal is refused, the connection forgotten, and she is told.
    world.asana.oauth.revoke_user(world.asana_people["ana"])
    await store.save_connection(replace(renewed, expires_at=running.bridge.clock.now() + timedelta(minutes=1)))
    await running.slash_task("After the revoke", by="ana", title="After the revoke")
    assert await store.get_connection(*_ids(running, "ana")) is None
    await eventually(lambda: [t for t in _dms(running, "ana") if t == wording.CONNECTION_DROPPED])
    made = next(t for t in running.asana_tasks() if t.name == "After the revoke")
    assert made.created_by == world.bridge_user and wording.on_behalf_of("ana") in made.notes


class TestRequireConnected:
    @pytest.fixture
    def policy(self, world: World) -> str:
        return "[identity]\nrequire_connected = true\n"

    async def test_people_not_connected_are_refused_with_the_connect_link(self, running: Running) -> None:
        world = running.world
        await running.user("ana").slash_command("/asana", f"link {world.project}", world.channel)
        await eventually(lambda: world.asana.webhooks)
        mark = running.asana_mark()
        await running.user("bo").slash_command("/task", "Not yet", world.channel)
        said = await eventually(lambda: [e.text for e in world.slack.ephemerals("bo") if "connect" in e.text])
        assert "nothing was changed" in said[0] and "/-/oauth_authorize?" in said[0]
        assert not [c for c in _calls(running, mark) if c[0] == "POST"]
        await _connected(running, "bo")
        made = await running.slash_task("Now yes", by="bo", title="Now yes")
        assert world.asana.store.tasks[made.task_gid].created_by == world.asana_people["bo"]

        # A question the channel's `capture = "all"` takes is the bridge's doing: never refused (askers may have no
        # Asana seat to connect).
        await running.user("ana").slash_command("/asana", "capture all", world.channel)
        await running.user("cy").post_message(world.channel, "Where is the SQL reference?")
        asked = await eventually(lambda: next((t for t in running.asana_tasks() if t.name.startswith("Where")), None))
        assert asked.created_by == world.bridge_user
        assert not [e for e in world.slack.ephemerals("cy") if "connect" in e.text]


async def test_the_app_home_shows_the_connection_and_its_buttons(running: Running) -> None:
    world = running.world

    def section() -> dict[str, Any] | None:
        home = world.slack.home("ana")
        found = [b for b in (home.blocks if home else []) if b.get("block_id") == "home_asana_connection"]
        return found[0] if found else None

    await running.user("ana").open_home()
    shown = await eventually(section)
    assert "not connected" in shown["text"]["text"]
    home = world.slack.home("ana")
    assert home is not None
    await running.user("ana").click_button(home, wording.ASANA_CONNECT_START)

    def contexts() -> list[str]:
        shown = world.slack.home("ana")
        assert shown is not None
        return [e["text"] for b in shown.blocks if b["type"] == "context" for e in b["elements"]]

    link = await eventually(contexts)
    assert "/-/oauth_authorize?" in link[0]
    await _connected(running, "ana")
    await running.user("ana").open_home()
    await eventually(lambda: "connected as *Ana Lopez*" in ((section() or {}).get("text") or {}).get("text", ""))
    connected_home = world.slack.home("ana")
    assert connected_home is not None
    await running.user("ana").click_button(connected_home, wording.ASANA_DISCONNECT)
    await eventually(lambda: "not connected" in ((section() or {}).get("text") or {}).get("text", ""))
    assert await running.bridge.store.get_connection(*_ids(running, "ana")) is None


async def test_a_reaction_capture_is_made_by_the_connected_reactor_for_the_author(running: Running) -> None:
    world = running.world
    await _connected(running, "ana")
    await running.user("ana").slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: world.asana.webhooks)
    await running.user("ana").slash_command("/asana", "capture reaction", world.channel)
    question = await running.user("bo").post_message(world.channel, "Can the export include archived tasks?")
    await running.user("ana").add_reaction(world.channel, question.ts or "", "ticket")
    task = await eventually(
        lambda: next((t for t in running.asana_tasks() if t.name == "Can the export include archived tasks?"), None)
    )
    assert task.created_by == world.asana_people["ana"]  # the reactor, connected, made it
    assert world.asana_people["bo"] in task.followers  # the author asked for it


async def test_the_asana_calls_of_a_connected_and_an_unconnected_click(running: Running) -> None:
    """What each costs (the closing note of issue #20 lists these): the same calls, made by the person when they
    are connected, with no members read (Asana decides what they may do)."""
    world = running.world
    await _connected(running, "bo")
    first = await running.slash_task("Tune the cache", by="ana", title="Tune the cache")
    second = await running.slash_task("Tune the index", by="ana", title="Tune the index")
    await running.user("cy").open_home()  # Cy's Asana user is looked up once here, not in the click below
    await eventually(lambda: world.slack.home("cy"))

    nag = await _nag(running, first)
    await _settled(running, -1)  # what the two /task did is relayed: the calls below are the clicks' own
    mark = running.asana_mark()
    await running.user("bo").click_button(nag, wording.NAG_DONE)
    await eventually(lambda: _outcome(running, nag))
    task = first.task_gid
    calls = _calls(running, mark)
    assert [c for c in calls if c[2] == "bo"] == [
        ("GET", f"/tasks/{task}", "bo"),
        ("PUT", f"/tasks/{task}", "bo"),
        ("POST", f"/tasks/{task}/stories", "bo"),
    ]
    # The bridge may look Bo up (cold), and reads the task once when Asana tells it of Bo's change (it finds it
    # was its own write, and tells nothing).
    assert {c[:2] for c in calls if c[2] != "bo"} <= {("GET", "/users/bo@example.com"), ("GET", f"/tasks/{task}")}

    nag = await _nag(running, second)
    await _settled(running, -1)
    mark = running.asana_mark()
    await running.user("cy").click_button(nag, wording.NAG_DONE)
    await eventually(lambda: _outcome(running, nag))
    task = second.task_gid
    assert _calls(running, mark) == [
        ("GET", f"/tasks/{task}", "bridge"),
        ("GET", f"/projects/{world.project}", "bridge"),  # Cy is neither assignee nor requester: is he a member?
        ("PUT", f"/tasks/{task}", "bridge"),
        ("POST", f"/tasks/{task}/stories", "bridge"),
    ]


async def test_replicas_renew_a_persons_token_once_between_them(running: Running) -> None:
    """Five actions at once on each of three replicas (their own store connections, one database), the token about
    to end: Asana is asked once, and every action uses the renewed token."""
    world = running.world
    await _connected(running, "ana")
    store: Any = running.bridge.store
    connection = await store.get_connection(*_ids(running, "ana"))
    await store.save_connection(replace(connection, expires_at=running.bridge.clock.now() + timedelta(minutes=2)))
    replicas = [await SqlStore.connect(running.local.database_url) for _ in range(3)]
    try:
        identities = [_replica_identities(running, replica) for replica in replicas]
        before = len(world.asana.oauth.requests)
        acting = await asyncio.gather(
            *(i.for_person(*_ids(running, "ana"), None) for i in identities for _ in range(5))
        )
        assert all(a.as_person for a in acting)
        refreshes = [r for r in world.asana.oauth.requests[before:] if r.form.get("grant_type") == "refresh_token"]
        assert len(refreshes) == 1
        me = await asyncio.gather(*(a.asana.me() for a in acting))
        assert {m.gid for m in me} == {world.asana_people["ana"]}
        renewed = await store.get_connection(*_ids(running, "ana"))
        assert renewed.access_token != connection.access_token
    finally:
        for replica in replicas:
            await replica.close()


async def test_an_access_token_asana_no_longer_takes_is_told_and_not_retried_as_the_bridge(running: Running) -> None:
    world = running.world
    await _connected(running, "ana")
    await running.user("ana").slash_command("/asana", f"link {world.project}", world.channel)
    await eventually(lambda: world.asana.webhooks)
    connection: Any = await running.bridge.store.get_connection(*_ids(running, "ana"))
    world.asana.revoke_token(connection.access_token)  # revoked in Asana before it ended
    mark = running.asana_mark()
    await running.user("ana").slash_command("/task", "Refused token", world.channel)
    await eventually(
        lambda: [e for e in world.slack.ephemerals("ana") if e.text.startswith(wording.CONNECTION_REFUSED)]
    )  # then what was typed, to send again once connected
    # Asana refused the one attempt (401, no user); nothing was retried, as Ana or as the bridge.
    assert [c for c in _calls(running, mark) if c[0] == "POST"] == [("POST", "/tasks", None)]
    assert not [t for t in running.asana_tasks() if t.name == "Refused token"]


async def test_uninstalling_revokes_and_forgets_the_workspaces_connections(running: Running) -> None:
    """What the app_uninstalled listener of a multi-workspace install asks (entrypoints/slack_install.py)."""
    world = running.world
    await _connected(running, "ana")
    await _connected(running, "bo")
    identities = _replica_identities(running, cast(SqlStore, running.bridge.store))
    assert len(world.asana.oauth.grants) == 2
    assert await identities.forget_workspace(TeamId(world.slack.team.team_id)) == 2
    assert world.asana.oauth.grants == {}
    assert await running.bridge.store.get_connection(*_ids(running, "ana")) is None


async def test_a_connected_persons_reply_edited_and_deleted_in_slack_follows_in_asana(running: Running) -> None:
    """Asana lets only a comment's author change or delete it: the author's own token does both."""
    world = running.world
    await _connected(running, "ana")
    tracked = await running.slash_task("Check the numbers", by="bo", title="Check the numbers")
    ana = running.user("ana")
    reply = await ana.post_message(world.channel, "They add up", thread_ts=tracked.thread_ts)
    story = (await eventually(lambda: [s for s in world.asana.store.stories.values() if s.text == "They add up"]))[0]
    assert story.created_by == world.asana_people["ana"]
    await ana.edit_message(world.channel, reply.ts or "", "They add up, checked twice")
    await eventually(lambda: world.asana.store.stories[story.gid].text == "They add up, checked twice")
    await ana.delete_message(world.channel, reply.ts or "")
    await eventually(lambda: story.gid not in world.asana.store.stories)
