"""Endpoints for projects, sections and custom fields."""

from __future__ import annotations

from aiohttp import web

from bridge.sandbox.asana.errors import bad_request
from bridge.sandbox.asana.http import (
    actor,
    data,
    path_gid,
    query_required,
    reply,
    reply_list,
    reply_one,
    world,
)
from bridge.sandbox.asana.listing import task_filter
from bridge.sandbox.asana.model import Compact
from bridge.sandbox.asana.placement import add_to_section
from bridge.sandbox.asana.seeding import create_section


async def get_project(request: web.Request) -> web.Response:
    project = world(request).store.project_for(path_gid(request, "project_gid"), actor(request))
    return reply_one(request, "project", project.gid)


async def get_projects(request: web.Request) -> web.Response:
    """GET /projects?workspace= and GET /workspaces/{gid}/projects: the projects the caller can see."""
    w, me = world(request), actor(request)
    raw = request.match_info.get("workspace_gid") or query_required(request, "workspace")
    ws = w.store.workspace_for(raw, me)
    archived = request.query.get("archived")
    projects = [
        p.gid
        for p in w.store.projects.values()
        if p.workspace == ws.gid
        and w.store.can_see_project(p, me)
        and (archived is None or str(p.archived).lower() == archived.lower())
    ]
    return reply_list(request, "project", projects)


async def get_sections(request: web.Request) -> web.Response:
    project = world(request).store.project_for(path_gid(request, "project_gid"), actor(request))
    return reply_list(request, "section", list(project.sections))


async def post_section(request: web.Request) -> web.Response:
    """POST /projects/{gid}/sections (the client sends opts['body'], also as `?body=`)."""
    w, me = world(request), actor(request)
    project = w.store.project_for(path_gid(request, "project_gid"), me)
    body = data(request)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip():
        raise bad_request("name: Missing input")
    gid = create_section(w, project.gid, body["name"], before=body.get("insert_before"), after=body.get("insert_after"))
    w.emit(me, "added", Compact(gid, "section"), {project.gid}, parent=Compact(project.gid, "project"))
    return reply_one(request, "section", gid, status=201)


async def get_section(request: web.Request) -> web.Response:
    section = world(request).store.section_for(path_gid(request, "section_gid"), actor(request))
    return reply_one(request, "section", section.gid)


async def post_section_add_task(request: web.Request) -> web.Response:
    """POST /sections/{gid}/addTask: body via opts['body'] and `?body=` alike."""
    w = world(request)
    section = w.store.section_for(path_gid(request, "section_gid"), actor(request))
    add_to_section(w, actor(request), section, data(request))
    return _empty(request)


def _empty(request: web.Request) -> web.Response:
    return reply(request, {"data": {}})


async def get_section_tasks(request: web.Request) -> web.Response:
    w = world(request)
    section = w.store.section_for(path_gid(request, "section_gid"), actor(request))
    keep = task_filter(w, request)
    return reply_list(request, "task", [t for t in section.tasks if keep(w.store.tasks[t])])


async def get_project_tasks(request: web.Request) -> web.Response:
    w = world(request)
    project = w.store.project_for(path_gid(request, "project_gid"), actor(request))
    keep = task_filter(w, request)
    return reply_list(request, "task", [t.gid for t in w.store.project_tasks(project) if keep(t)])


async def get_field_settings(request: web.Request) -> web.Response:
    project = world(request).store.project_for(path_gid(request, "project_gid"), actor(request))
    return reply_list(request, "custom_field_setting", list(project.field_settings))


async def get_custom_field(request: web.Request) -> web.Response:
    cf = world(request).store.field_for(path_gid(request, "custom_field_gid"), actor(request))
    return reply_one(request, "custom_field", cf.gid)


async def get_workspace_fields(request: web.Request) -> web.Response:
    w = world(request)
    ws = w.store.workspace_for(path_gid(request, "workspace_gid"), actor(request))
    return reply_list(request, "custom_field", [cf.gid for cf in w.store.fields.values() if cf.workspace == ws.gid])


def routes() -> list[web.RouteDef]:
    return [
        web.get("/projects", get_projects),
        web.get("/workspaces/{workspace_gid}/projects", get_projects),
        web.get("/projects/{project_gid}", get_project),
        web.get("/projects/{project_gid}/sections", get_sections),
        web.post("/projects/{project_gid}/sections", post_section),
        web.get("/projects/{project_gid}/tasks", get_project_tasks),
        web.get("/projects/{project_gid}/custom_field_settings", get_field_settings),
        web.get("/sections/{section_gid}", get_section),
        web.post("/sections/{section_gid}/addTask", post_section_add_task),
        web.get("/sections/{section_gid}/tasks", get_section_tasks),
        web.get("/custom_fields/{custom_field_gid}", get_custom_field),
        web.get("/workspaces/{workspace_gid}/custom_fields", get_workspace_fields),
    ]
