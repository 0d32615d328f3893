"""Endpoints for tasks, subtasks, multi-homing, followers and stories."""

from __future__ import annotations

from aiohttp import web

from bridge.sandbox.asana.errors import bad_request
from bridge.sandbox.asana.http import actor, data, path_gid, reply, reply_list, reply_one, world
from bridge.sandbox.asana.listing import task_filter
from bridge.sandbox.asana.placement import add_project, change_followers, remove_project
from bridge.sandbox.asana.stories import add_comment, edit_comment, remove_comment, stories_of
from bridge.sandbox.asana.tasks import create_task, delete_task, subtasks_of, update_task


async def post_task(request: web.Request) -> web.Response:
    task = create_task(world(request), actor(request), data(request))
    return reply_one(request, "task", task.gid, status=201)


async def get_task(request: web.Request) -> web.Response:
    task = world(request).store.task_for(path_gid(request, "task_gid"), actor(request))
    return reply_one(request, "task", task.gid)


async def put_task(request: web.Request) -> web.Response:
    w, me = world(request), actor(request)
    task = w.store.task_for(path_gid(request, "task_gid"), me)
    update_task(w, me, task, data(request))
    return reply_one(request, "task", task.gid)


async def del_task(request: web.Request) -> web.Response:
    w, me = world(request), actor(request)
    delete_task(w, me, w.store.task_for(path_gid(request, "task_gid"), me))
    return reply(request, {"data": {}})


async def get_tasks(request: web.Request) -> web.Response:
    """GET /tasks: exactly one of project, section, or assignee + workspace (tags are not emulated)."""
    w, me = world(request), actor(request)
    q = request.query
    keep = task_filter(w, request)
    if "project" in q and "section" not in q and "assignee" not in q:
        project = w.store.project_for(q["project"], me)
        gids = [t.gid for t in w.store.project_tasks(project) if keep(t)]
    elif "section" in q and "project" not in q and "assignee" not in q:
        section = w.store.section_for(q["section"], me)
        gids = [t for t in section.tasks if keep(w.store.tasks[t])]
    elif "assignee" in q and "workspace" in q and "project" not in q and "section" not in q:
        user = w.store.user_for(q["assignee"], me, "assignee")
        ws = w.store.workspace_for(q["workspace"], me)
        gids = [
            t.gid
            for t in w.store.tasks.values()
            if t.assignee == user.gid and t.workspace == ws.gid and keep(t) and w.store.can_see_task(t, me)
        ]
    else:
        raise bad_request("Must specify exactly one of project, tag, section, user task list, or assignee + workspace")
    return reply_list(request, "task", gids)


async def post_subtask(request: web.Request) -> web.Response:
    w, me = world(request), actor(request)
    parent = w.store.task_for(path_gid(request, "task_gid"), me)
    task = create_task(w, me, data(request), parent=parent)
    return reply_one(request, "task", task.gid, status=201)


async def get_subtasks(request: web.Request) -> web.Response:
    w = world(request)
    task = w.store.task_for(path_gid(request, "task_gid"), actor(request))
    return reply_list(request, "task", subtasks_of(w, task))


async def post_add_project(request: web.Request) -> web.Response:
    w, me = world(request), actor(request)
    add_project(w, me, w.store.task_for(path_gid(request, "task_gid"), me), data(request))
    return reply(request, {"data": {}})


async def post_remove_project(request: web.Request) -> web.Response:
    w, me = world(request), actor(request)
    remove_project(w, me, w.store.task_for(path_gid(request, "task_gid"), me), data(request))
    return reply(request, {"data": {}})


async def post_add_followers(request: web.Request) -> web.Response:
    w, me = world(request), actor(request)
    task = w.store.task_for(path_gid(request, "task_gid"), me)
    change_followers(w, me, task, data(request), add=True)
    return reply_one(request, "task", task.gid)


async def post_remove_followers(request: web.Request) -> web.Response:
    w, me = world(request), actor(request)
    task = w.store.task_for(path_gid(request, "task_gid"), me)
    change_followers(w, me, task, data(request), add=False)
    return reply_one(request, "task", task.gid)


async def post_story(request: web.Request) -> web.Response:
    w, me = world(request), actor(request)
    task = w.store.task_for(path_gid(request, "task_gid"), me)
    story = add_comment(w, me, task, data(request))
    return reply_one(request, "story", story.gid, status=201)


async def get_stories(request: web.Request) -> web.Response:
    w = world(request)
    task = w.store.task_for(path_gid(request, "task_gid"), actor(request))
    return reply_list(request, "story", stories_of(w, task))


async def get_story(request: web.Request) -> web.Response:
    story = world(request).store.story_for(path_gid(request, "story_gid"), actor(request))
    return reply_one(request, "story", story.gid)


async def put_story(request: web.Request) -> web.Response:
    w, me = world(request), actor(request)
    story = edit_comment(w, me, w.store.story_for(path_gid(request, "story_gid"), me), data(request))
    return reply_one(request, "story", story.gid)


async def del_story(request: web.Request) -> web.Response:
    w, me = world(request), actor(request)
    remove_comment(w, me, w.store.story_for(path_gid(request, "story_gid"), me))
    return reply(request, {"data": {}})


def routes() -> list[web.RouteDef]:
    return [
        web.post("/tasks", post_task),
        web.get("/tasks", get_tasks),
        web.get("/tasks/{task_gid}", get_task),
        web.put("/tasks/{task_gid}", put_task),
        web.delete("/tasks/{task_gid}", del_task),
        web.post("/tasks/{task_gid}/subtasks", post_subtask),
        web.get("/tasks/{task_gid}/subtasks", get_subtasks),
        web.post("/tasks/{task_gid}/addProject", post_add_project),
        web.post("/tasks/{task_gid}/removeProject", post_remove_project),
        web.post("/tasks/{task_gid}/addFollowers", post_add_followers),
        web.post("/tasks/{task_gid}/removeFollowers", post_remove_followers),
        web.post("/tasks/{task_gid}/stories", post_story),
        web.get("/tasks/{task_gid}/stories", get_stories),
        web.get("/stories/{story_gid}", get_story),
        web.put("/stories/{story_gid}", put_story),
        web.delete("/stories/{story_gid}", del_story),
    ]
