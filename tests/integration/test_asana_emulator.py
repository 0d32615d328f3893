"""The Asana emulator driven by the real `asana` client over HTTP: tasks, sections, stories, users, pages."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asana
import pytest
from asana.rest import ApiException

from bridge.sandbox.oas import OpenApiSpec
from tests import fixtures_asana
from tests.fixtures_asana import AsanaSeed, assert_spec_clean, close_client, make_client

# The fixtures, visible here even where tests/conftest.py does not register tests.fixtures_asana.
asana_seed = fixtures_asana.asana_seed
asana_client = fixtures_asana.asana_client
oas_spec = fixtures_asana.oas_spec

TASK_FIELDS = (
    "name,notes,completed,completed_at,assignee.name,due_on,due_at,permalink_url,modified_at,"
    "memberships.project.name,memberships.section.name,custom_fields.name,custom_fields.enum_value.name,"
    "parent.name,followers.name,projects.name,num_subtasks,workspace"
)


def error_of(exc: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(exc.body)
    return body


async def test_task_lifecycle_with_sections_and_priority(
    asana_seed: AsanaSeed, asana_client: asana.ApiClient, oas_spec: OpenApiSpec
) -> None:
    seed, tasks = asana_seed, asana.TasksApi(asana_client)
    body = {
        "data": {
            "name": "Webhook signature mismatch",
            "notes": "From #dev-questions",
            "memberships": [{"project": seed.project, "section": seed.sections["Needs triage"]}],
            "assignee": "ana@example.com",
            "followers": ["bo@example.com"],
            "due_on": "2026-12-03",
            "custom_fields": {seed.priority_field: seed.priorities["P1"]},
        }
    }
    created = await asyncio.to_thread(tasks.create_task, body, {"opt_fields": TASK_FIELDS})
    gid = created["gid"]
    assert created["assignee"]["name"] == "Ana Lopez"
    assert created["memberships"] == [
        {
            "project": {"gid": seed.project, "name": "Developer Questions"},
            "section": {"gid": seed.sections["Needs triage"], "name": "Needs triage"},
        }
    ]
    assert [cf["enum_value"]["name"] for cf in created["custom_fields"]] == ["P1"]
    assert {f["name"] for f in created["followers"]} == {"Bridge Bot", "Ana Lopez", "Bo Chen"}
    assert created["permalink_url"].endswith(f"/task/{gid}")

    # Without opt_fields a single task comes back as the full record; lists are compact.
    full = await asyncio.to_thread(tasks.get_task, gid, {})
    assert full["due_on"] == "2026-12-03" and full["completed"] is False and "html_notes" not in full
    listed = await asyncio.to_thread(lambda: list(tasks.get_tasks_for_project(seed.project, {})))
    assert listed == [
        {"gid": gid, "name": "Webhook signature mismatch", "resource_type": "task", "resource_subtype": "default_task"}
    ]

    updated = await asyncio.to_thread(
        tasks.update_task,
        {"data": {"completed": True, "assignee": None, "custom_fields": {seed.priority_field: seed.priorities["P0"]}}},
        gid,
        {"opt_fields": "completed,completed_at,assignee,custom_fields.enum_value.name"},
    )
    assert updated["completed"] is True and updated["completed_at"] and updated["assignee"] is None
    assert updated["custom_fields"][0]["enum_value"]["name"] == "P0"

    # Incomplete-only listing drops it; modified_since still finds it.
    open_tasks = await asyncio.to_thread(
        lambda: list(tasks.get_tasks({"project": seed.project, "completed_since": "now"}))
    )
    assert open_tasks == []

    # Moving sections goes through opts['body'] (also sent as ?body=...).
    sections = asana.SectionsApi(asana_client)
    await asyncio.to_thread(sections.add_task_for_section, seed.sections["P0"], {"body": {"data": {"task": gid}}})
    moved = await asyncio.to_thread(tasks.get_task, gid, {"opt_fields": "memberships.section.name"})
    assert moved["memberships"][0]["section"]["name"] == "P0"
    add_task_call = asana_seed.emu.calls("POST", r"/addTask$")[0]
    assert "body" in add_task_call.query

    stories = await asyncio.to_thread(
        lambda: list(asana.StoriesApi(asana_client).get_stories_for_task(gid, {"opt_fields": "resource_subtype,text"}))
    )
    assert [s["resource_subtype"] for s in stories] == [
        "unassigned",
        "marked_complete",
        "enum_custom_field_changed",
        "section_changed",
    ]

    await asyncio.to_thread(tasks.delete_task, gid)
    with pytest.raises(ApiException) as gone:
        await asyncio.to_thread(tasks.get_task, gid, {})
    assert gone.value.status == 404
    assert_spec_clean(asana_seed.emu, oas_spec)


async def test_subtasks_comments_and_rich_text(
    asana_seed: AsanaSeed, asana_client: asana.ApiClient, oas_spec: OpenApiSpec
) -> None:
    seed = asana_seed
    tasks, stories = asana.TasksApi(asana_client), asana.StoriesApi(asana_client)
    parent = await asyncio.to_thread(tasks.create_task, {"data": {"name": "Parent", "projects": [seed.project]}}, {})
    sub = await asyncio.to_thread(
        tasks.create_subtask_for_task,
        {"data": {"name": "Acknowledge", "assignee": "me"}},
        parent["gid"],
        {"opt_fields": "parent.name,assignee.name,projects"},
    )
    assert sub["parent"] == {"gid": parent["gid"], "name": "Parent"}
    assert sub["assignee"]["name"] == "Bridge Bot" and sub["projects"] == []
    subs = await asyncio.to_thread(lambda: list(tasks.get_subtasks_for_task(parent["gid"], {"opt_fields": "name"})))
    assert subs == [{"gid": sub["gid"], "name": "Acknowledge"}]
    counted = await asyncio.to_thread(tasks.get_task, parent["gid"], {"opt_fields": "num_subtasks"})
    assert counted["num_subtasks"] == 1

    plain = await asyncio.to_thread(stories.create_story_for_task, {"data": {"text": "a < b & c"}}, parent["gid"], {})
    assert plain["resource_subtype"] == "comment_added" and plain["type"] == "comment" and plain["text"] == "a < b & c"
    rich = await asyncio.to_thread(
        stories.create_story_for_task,
        {"data": {"html_text": f'<body><strong>Hi</strong> <a data-asana-gid="{seed.human}"/> see</body>'}},
        parent["gid"],
        {"opt_fields": "html_text,text,created_by.name,target.name"},
    )
    assert rich["created_by"]["name"] == "Bridge Bot" and rich["target"]["name"] == "Parent"
    assert rich["text"] == "Hi  see"
    fetched = await asyncio.to_thread(stories.get_story, rich["gid"], {"opt_fields": "html_text"})
    assert fetched["html_text"].startswith("<body><strong>Hi</strong>")

    for bad in (
        {"html_text": "<body><strong>unclosed</body>"},
        {"html_text": "<body><script>x</script></body>"},
        {"html_text": "<body>Tom & Jerry</body>"},
        {"html_text": "<p>no body root</p>"},
        {"html_text": '<body><strong class="x">attr</strong></body>'},
        {"text": "both", "html_text": "<body>both</body>"},
        {},
    ):
        with pytest.raises(ApiException) as rejected:
            await asyncio.to_thread(stories.create_story_for_task, {"data": bad}, parent["gid"], {})
        assert rejected.value.status == 400, bad
        assert error_of(rejected.value)["errors"][0]["message"]

    listed = await asyncio.to_thread(lambda: list(stories.get_stories_for_task(parent["gid"], {})))
    assert [s["resource_subtype"] for s in listed] == ["comment_added", "comment_added"]
    assert set(listed[0]) == {"gid", "created_at", "created_by", "resource_subtype", "resource_type", "text"}
    assert_spec_clean(asana_seed.emu, oas_spec)


async def test_multi_homing_and_the_twenty_project_limit(
    asana_seed: AsanaSeed, asana_client: asana.ApiClient, oas_spec: OpenApiSpec
) -> None:
    seed, emu = asana_seed, asana_seed.emu
    tasks = asana.TasksApi(asana_client)
    combined = emu.add_project(seed.workspace, "All questions", ["Inbox", "Answered"])
    task = await asyncio.to_thread(tasks.create_task, {"data": {"name": "Q", "projects": [seed.project]}}, {})
    gid = task["gid"]
    answered = emu.section_gid(combined, "Answered")
    assert (
        await asyncio.to_thread(tasks.add_project_for_task, {"data": {"project": combined, "section": answered}}, gid)
        == {}
    )
    got = await asyncio.to_thread(tasks.get_task, gid, {"opt_fields": "memberships.section.name,projects.name"})
    assert [m["section"]["name"] for m in got["memberships"]] == ["Needs triage", "Answered"]

    extra = [emu.add_project(seed.workspace, f"Extra {i}") for i in range(19)]
    for project in extra[:18]:
        await asyncio.to_thread(tasks.add_project_for_task, {"data": {"project": project}}, gid)
    with pytest.raises(ApiException) as too_many:
        await asyncio.to_thread(tasks.add_project_for_task, {"data": {"project": extra[18]}}, gid)
    assert too_many.value.status == 400
    assert "20 projects" in error_of(too_many.value)["errors"][0]["message"]

    # Re-adding a project it is already in only moves it; removing frees a slot.
    await asyncio.to_thread(tasks.add_project_for_task, {"data": {"project": combined}}, gid)
    await asyncio.to_thread(tasks.remove_project_for_task, {"data": {"project": extra[0]}}, gid)
    await asyncio.to_thread(tasks.add_project_for_task, {"data": {"project": extra[18]}}, gid)
    final = await asyncio.to_thread(tasks.get_task, gid, {"opt_fields": "projects"})
    assert len(final["projects"]) == 20 and {"gid": extra[0]} not in final["projects"]

    with pytest.raises(ApiException) as not_writable:
        await asyncio.to_thread(tasks.update_task, {"data": {"projects": [combined]}}, gid, {})
    assert not_writable.value.status == 400
    followers = await asyncio.to_thread(
        tasks.add_followers_for_task, {"data": {"followers": ["bo@example.com"]}}, gid, {"opt_fields": "followers.name"}
    )
    assert {f["name"] for f in followers["followers"]} == {"Bridge Bot", "Bo Chen"}
    assert_spec_clean(emu, oas_spec)


async def test_users_by_email_and_me_and_workspace_lists(
    asana_seed: AsanaSeed, asana_client: asana.ApiClient, oas_spec: OpenApiSpec
) -> None:
    seed = asana_seed
    users, workspaces = asana.UsersApi(asana_client), asana.WorkspacesApi(asana_client)
    me = await asyncio.to_thread(users.get_user, "me", {"opt_fields": "name,email,workspaces"})
    assert me == {
        "gid": seed.bridge_user,
        "name": "Bridge Bot",
        "email": "bridge@example.com",
        "workspaces": [{"gid": seed.workspace, "name": "Example Co", "resource_type": "workspace"}],
    }
    ana = await asyncio.to_thread(users.get_user, "ANA@example.com", {"workspace": seed.workspace})
    assert ana["gid"] == seed.human and ana["email"] == "ana@example.com"
    with pytest.raises(ApiException) as unknown:
        await asyncio.to_thread(users.get_user, "nobody@example.com", {})
    assert unknown.value.status == 404

    everyone = await asyncio.to_thread(lambda: list(users.get_users({"workspace": seed.workspace})))
    assert [u["gid"] for u in everyone] == sorted([seed.bridge_user, seed.human, seed.other_human], key=int)
    alphabetical = await asyncio.to_thread(lambda: list(users.get_users_for_workspace(seed.workspace, {})))
    assert [u["name"] for u in alphabetical] == ["Ana Lopez", "Bo Chen", "Bridge Bot"]
    listed = await asyncio.to_thread(lambda: list(workspaces.get_workspaces({})))
    assert listed == [{"gid": seed.workspace, "name": "Example Co", "resource_type": "workspace"}]

    stranger = make_client(seed.emu.url, "not-a-token", retries=0)
    try:
        with pytest.raises(ApiException) as unauthorized:
            await asyncio.to_thread(asana.UsersApi(stranger).get_user, "me", {})
    finally:
        close_client(stranger)
    assert unauthorized.value.status == 401
    assert error_of(unauthorized.value) == {"errors": [{"message": "Not Authorized"}]}
    assert_spec_clean(seed.emu, oas_spec)


async def test_private_projects_and_bad_input(
    asana_seed: AsanaSeed, asana_client: asana.ApiClient, oas_spec: OpenApiSpec
) -> None:
    seed, emu = asana_seed, asana_seed.emu
    tasks, projects = asana.TasksApi(asana_client), asana.ProjectsApi(asana_client)
    secret = emu.add_project(seed.workspace, "HR", ["Cases"], public=False, members=[seed.human])
    other_ws = emu.add_workspace("Elsewhere")
    elsewhere = emu.add_project(other_ws, "Theirs")
    for project, status in ((secret, 403), (elsewhere, 404), ("1", 404)):
        with pytest.raises(ApiException) as denied:
            await asyncio.to_thread(projects.get_project, project, {})
        assert denied.value.status == status
    with pytest.raises(ApiException) as not_long:
        await asyncio.to_thread(tasks.get_task, "abc", {})
    assert not_long.value.status == 400

    visible = await asyncio.to_thread(lambda: list(projects.get_projects_for_workspace(seed.workspace, {})))
    assert secret not in {p["gid"] for p in visible}
    other_field = emu.add_enum_custom_field(seed.workspace, "Size", ["S", "L"], projects=[seed.project])
    other_option = emu.option_gid(other_field, "S")
    bad_bodies: list[dict[str, Any]] = [
        {"name": "x", "projects": [seed.project], "due_on": "2026-12-03", "due_at": "2026-12-03T10:00:00Z"},
        {"name": "x", "projects": [seed.project], "custom_fields": {seed.priority_field: other_option}},
        {"name": "x", "projects": [seed.project], "start_on": "2026-12-01"},
        {"name": "x", "projects": [seed.project], "assignee": "ghost@example.com"},
        {"name": "x", "memberships": [{"project": seed.project, "section": emu.section_gid(secret, "Cases")}]},
        {"name": "x"},
    ]
    for body in bad_bodies:
        with pytest.raises(ApiException) as rejected:
            await asyncio.to_thread(tasks.create_task, {"data": body}, {})
        assert rejected.value.status in (400, 403), body
    # Nothing half-created.
    assert await asyncio.to_thread(lambda: list(tasks.get_tasks_for_project(seed.project, {}))) == []
    assert_spec_clean(emu, oas_spec)


async def test_pagination_across_more_than_a_hundred(
    asana_seed: AsanaSeed, asana_client: asana.ApiClient, oas_spec: OpenApiSpec
) -> None:
    seed, emu = asana_seed, asana_seed.emu
    ana = emu.act(seed.human)
    made = [ana.create_task(f"Task {i:03d}", project=seed.project) for i in range(130)]
    tasks = asana.TasksApi(asana_client)

    walked = await asyncio.to_thread(lambda: [t["gid"] for t in tasks.get_tasks_for_project(seed.project, {})])
    assert walked == made  # the client follows next_page by itself (limit=100, then the offset)
    assert [c.query.get("limit") for c in emu.calls("GET", r"/projects/\d+/tasks$")] == ["100", "100"]

    page = await asyncio.to_thread(tasks.get_tasks_for_project, seed.project, {"limit": 50}, full_payload=True)
    nxt = page["next_page"]
    assert len(page["data"]) == 50 and nxt["path"].startswith(f"/projects/{seed.project}/tasks?")
    assert nxt["uri"] == emu.url + nxt["path"]
    page2 = await asyncio.to_thread(
        tasks.get_tasks_for_project, seed.project, {"limit": 100, "offset": nxt["offset"]}, full_payload=True
    )
    assert [t["gid"] for t in page["data"] + page2["data"]] == made and page2["next_page"] is None

    for opts in ({"limit": 101}, {"limit": 0}, {"limit": 10, "offset": "bogus"}):
        with pytest.raises(ApiException) as bad:
            await asyncio.to_thread(tasks.get_tasks_for_project, seed.project, opts, full_payload=True)
        assert bad.value.status == 400
    errors = oas_spec.validate_exchanges(emu.requests, strict=True)
    # The checker flags exactly the two out-of-range limits we sent on purpose.
    assert errors == [
        "GET /projects/{project_gid}/tasks ?limit: 101 is greater than the maximum of 100",
        "GET /projects/{project_gid}/tasks ?limit: 0 is less than the minimum of 1",
    ]


async def test_discovery_of_sections_fields_and_ooo(
    asana_seed: AsanaSeed, asana_client: asana.ApiClient, oas_spec: OpenApiSpec
) -> None:
    seed, emu = asana_seed, asana_seed.emu
    settings = await asyncio.to_thread(
        lambda: list(
            asana.CustomFieldSettingsApi(asana_client).get_custom_field_settings_for_project(
                seed.project,
                {
                    "opt_fields": "custom_field.name,custom_field.resource_subtype,custom_field.enum_options.name,"
                    "custom_field.enum_options.enabled,is_important"
                },
            )
        )
    )
    assert settings[0]["custom_field"]["name"] == "Priority" and settings[0]["is_important"] is True
    assert [o["name"] for o in settings[0]["custom_field"]["enum_options"]] == ["P0", "P1", "P2", "P3"]
    fields_api = asana.CustomFieldsApi(asana_client)
    by_ws = await asyncio.to_thread(lambda: list(fields_api.get_custom_fields_for_workspace(seed.workspace, {})))
    assert [f["gid"] for f in by_ws] == [seed.priority_field]
    one = await asyncio.to_thread(fields_api.get_custom_field, seed.priority_field, {})
    assert one["resource_subtype"] == "enum" and one["enum_options"][0]["gid"] == seed.priorities["P0"]

    sections = asana.SectionsApi(asana_client)
    created = await asyncio.to_thread(
        sections.create_section_for_project, seed.project, {"body": {"data": {"name": "Waiting"}}}
    )
    names = await asyncio.to_thread(lambda: [s["name"] for s in sections.get_sections_for_project(seed.project, {})])
    assert names == ["Needs triage", "P0", "P1", "P2", "P3", "Done", "Waiting"] and created["name"] == "Waiting"
    project = await asyncio.to_thread(
        asana.ProjectsApi(asana_client).get_project,
        seed.project,
        {"opt_fields": "name,workspace,permalink_url,archived"},
    )
    assert project["workspace"]["gid"] == seed.workspace and project["archived"] is False

    emu.add_ooo_entry(seed.human, "2026-12-01", "2026-12-05")
    emu.add_ooo_entry(seed.human, "2027-01-10", "2027-01-12")
    ooo = asana.OooEntriesApi(asana_client)
    entries = await asyncio.to_thread(lambda: list(ooo.get_ooo_entries("ana@example.com", seed.workspace, {})))
    assert [(e["start_date"], e["end_date"], e["user"]["gid"]) for e in entries] == [
        ("2026-12-01", "2026-12-05", seed.human),
        ("2027-01-10", "2027-01-12", seed.human),
    ]
    window = await asyncio.to_thread(
        lambda: list(
            ooo.get_ooo_entries(seed.human, seed.workspace, {"start_date": "2026-12-04", "end_date": "2026-12-31"})
        )
    )
    assert [e["start_date"] for e in window] == ["2026-12-01"]
    assert_spec_clean(emu, oas_spec)


async def test_checker_catches_bad_requests_and_responses(asana_seed: AsanaSeed, oas_spec: OpenApiSpec) -> None:
    import aiohttp

    emu = asana_seed.emu
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {asana_seed.bridge_token}"}) as http:
        async with http.post(
            f"{emu.url}/tasks", json={"data": {"name": 5, "projects": asana_seed.project, "completed": "yes"}}
        ) as resp:
            assert resp.status == 400
        async with http.get(f"{emu.url}/tasks/{asana_seed.project}", params={"opt_fields": "name,colour"}) as resp:
            assert resp.status == 404
    errors = oas_spec.validate_exchanges(emu.requests)
    assert "POST /tasks body/data/name: 5 is not of type 'string'" in errors
    assert any("body/data/projects" in e and "not of type 'array'" in e for e in errors)
    assert any("body/data/completed" in e for e in errors)
    assert any(e.startswith("GET /tasks/{task_gid} ?opt_fields/1: 'colour' is not one of") for e in errors)
    # And on the response side: a task whose gid is a number, and an undeclared field in strict mode.
    assert oas_spec.validate_response("GET", "/tasks/1", 200, {"data": {"gid": 1}})
    assert oas_spec.validate_response("GET", "/tasks/1", 200, {"data": {"gid": "1", "colour": "red"}}, strict=True)
    assert oas_spec.validate_request("POST", "/nowhere", {}, None) == ["POST /nowhere: no such operation in the spec"]


async def test_task_queries_and_field_values_after_leaving_a_project(
    asana_seed: AsanaSeed, asana_client: asana.ApiClient, oas_spec: OpenApiSpec
) -> None:
    seed, emu = asana_seed, asana_seed.emu
    tasks = asana.TasksApi(asana_client)
    ana = emu.act(seed.human)
    old = ana.create_task("Old", project=seed.project, assignee=seed.bridge_user)
    done = ana.create_task("Done", section=seed.sections["Done"], completed=True)
    emu.advance(minutes=5)
    cutoff = emu.clock.now().isoformat()
    emu.advance(minutes=5)
    ana.rename(old, "Old")  # no change, so no modification
    ana.comment(old, "a story counts as a modification")

    mine = await asyncio.to_thread(lambda: list(tasks.get_tasks({"assignee": "me", "workspace": seed.workspace})))
    assert [t["gid"] for t in mine] == [old]
    recent = await asyncio.to_thread(
        lambda: list(tasks.get_tasks({"project": seed.project, "modified_since": cutoff, "opt_fields": "name"}))
    )
    assert recent == [{"gid": old, "name": "Old"}]
    in_done = await asyncio.to_thread(lambda: list(tasks.get_tasks_for_section(seed.sections["Done"], {})))
    assert [t["gid"] for t in in_done] == [done]
    open_in_done = await asyncio.to_thread(
        lambda: list(tasks.get_tasks({"section": seed.sections["Done"], "completed_since": "now"}))
    )
    assert open_in_done == []
    with pytest.raises(ApiException) as ambiguous:
        await asyncio.to_thread(lambda: list(tasks.get_tasks({"workspace": seed.workspace})))
    assert ambiguous.value.status == 400

    # Rich notes are opt-in; a value whose field left with the project is disabled and can only be cleared.
    await asyncio.to_thread(
        tasks.update_task,
        {
            "data": {
                "html_notes": "<body><h1>Title</h1><ul><li>one</li></ul></body>",
                "custom_fields": {seed.priority_field: seed.priorities["P3"]},
            }
        },
        old,
        {},
    )
    other = emu.add_project(seed.workspace, "Elsewhere")
    await asyncio.to_thread(tasks.add_project_for_task, {"data": {"project": other}}, old)
    await asyncio.to_thread(tasks.remove_project_for_task, {"data": {"project": seed.project}}, old)
    got = await asyncio.to_thread(
        tasks.get_task, old, {"opt_fields": "notes,html_notes,custom_fields.enabled,custom_fields.enum_value.name"}
    )
    assert got["notes"] == "Titleone" and got["html_notes"].startswith("<body><h1>")
    assert got["custom_fields"] == [
        {"gid": seed.priority_field, "enabled": False, "enum_value": {"gid": seed.priorities["P3"], "name": "P3"}}
    ]
    with pytest.raises(ApiException) as disabled:
        await asyncio.to_thread(
            tasks.update_task, {"data": {"custom_fields": {seed.priority_field: seed.priorities["P0"]}}}, old, {}
        )
    assert disabled.value.status == 400
    await asyncio.to_thread(tasks.update_task, {"data": {"custom_fields": {seed.priority_field: None}}}, old, {})
    assert_spec_clean(emu, oas_spec)


async def test_project_privacy_teams_and_guests_decide_who_sees_a_project(
    asana_seed: AsanaSeed, asana_client: asana.ApiClient, oas_spec: OpenApiSpec
) -> None:
    """privacy_setting as the spec has it: public_to_workspace (everyone but guests), private_to_team (the team's
    members), private (the project's members); members always see it."""
    seed, emu = asana_seed, asana_seed.emu
    cy_token = "cy-token-0001"
    cy = emu.add_user("Cy Park", "cy@example.com", [seed.workspace], token=cy_token, guest_of=[seed.workspace])
    support = emu.add_team(seed.workspace, "Support", [seed.other_human, seed.bridge_user])
    team_project = emu.add_project(seed.workspace, "Support desk", privacy="private_to_team", team=support)
    closed = emu.add_project(seed.workspace, "HR", privacy="private", members=[seed.human])

    def can_see(token: str, project: str) -> bool:
        client = make_client(emu.url, token)
        try:
            asana.ProjectsApi(client).get_project(project, {})
            return True
        except ApiException as exc:
            assert exc.status == 403
            return False
        finally:
            close_client(client)

    bo_token = "bo-token-0001"
    emu.add_token(seed.other_human, bo_token)
    seen = {
        (who, project): await asyncio.to_thread(can_see, token, project)
        for who, token in (("ana", seed.human_token), ("bo", bo_token), ("cy", cy_token))
        for project in (seed.project, team_project, closed)
    }
    assert seen == {
        ("ana", seed.project): True, ("ana", team_project): False, ("ana", closed): True,
        ("bo", seed.project): True, ("bo", team_project): True, ("bo", closed): False,
        ("cy", seed.project): False, ("cy", team_project): False, ("cy", closed): False,
    }  # fmt: skip

    projects, users = asana.ProjectsApi(asana_client), asana.UsersApi(asana_client)
    opts = {"opt_fields": "privacy_setting,team,team.name,members"}
    shown = await asyncio.to_thread(projects.get_project, team_project, opts)
    assert shown["privacy_setting"] == "private_to_team" and shown["team"] == {"gid": support, "name": "Support"}
    assert "team" not in await asyncio.to_thread(projects.get_project, seed.project, opts)
    team = await asyncio.to_thread(lambda: list(users.get_users_for_team(support, {})))
    assert [u["gid"] for u in team] == [seed.other_human, seed.bridge_user]  # alphabetical: Bo Chen, Bridge Bot
    memberships = asana.WorkspaceMembershipsApi(asana_client)
    opts = {"opt_fields": "is_guest,workspace"}

    def memberships_of(user: str) -> list[Any]:  # the SDK pages lazily: read every page off the loop
        return list(memberships.get_workspace_memberships_for_user(user, opts))

    for user, guest in ((cy, True), (seed.human, False)):
        rows = await asyncio.to_thread(memberships_of, user)
        assert [(r["workspace"]["gid"], r["is_guest"]) for r in rows] == [(seed.workspace, guest)]
    assert_spec_clean(emu, oas_spec)
