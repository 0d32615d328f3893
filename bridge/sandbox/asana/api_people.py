"""Endpoints for users, workspaces and out-of-office entries."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from bridge.sandbox.asana.errors import bad_request, not_found
from bridge.sandbox.asana.http import (
    actor,
    path_gid,
    query_required,
    reply_list,
    reply_one,
    world,
)


async def get_user(request: web.Request) -> web.Response:
    """GET /users/{gid|email|me}: Slack email -> Asana user works directly."""
    w, me = world(request), actor(request)
    user = w.store.user_path(request.match_info.get("user_gid", "me"), me)
    if "workspace" in request.query:
        w.store.workspace_for(request.query["workspace"], me)
    return reply_one(request, "user", user.gid)


async def get_users(request: web.Request) -> web.Response:
    """GET /users?workspace=: users sorted by gid."""
    w, me = world(request), actor(request)
    workspaces = me.workspaces
    if "workspace" in request.query:
        workspaces = [w.store.workspace_for(request.query["workspace"], me).gid]
    users = sorted((u for u in w.store.users.values() if set(u.workspaces) & set(workspaces)), key=lambda u: int(u.gid))
    return reply_list(request, "user", [u.gid for u in users])


async def get_workspaces(request: web.Request) -> web.Response:
    return reply_list(request, "workspace", list(actor(request).workspaces))


async def get_workspace(request: web.Request) -> web.Response:
    ws = world(request).store.workspace_for(path_gid(request, "workspace_gid"), actor(request))
    return reply_one(request, "workspace", ws.gid)


async def get_workspace_users(request: web.Request) -> web.Response:
    """GET /workspaces/{gid}/users: alphabetical and capped at 2000 (use /users for more)."""
    w = world(request)
    ws = w.store.workspace_for(path_gid(request, "workspace_gid"), actor(request))
    users = sorted((u for u in w.store.users.values() if ws.gid in u.workspaces), key=lambda u: u.name.lower())
    # The spec gives this list no next_page: it is one answer, capped.
    return reply_list(request, "user", [u.gid for u in users[:2000]], paginated=False)


async def get_team_users(request: web.Request) -> web.Response:
    """GET /teams/{gid}/users: the team's members, alphabetical and capped at 2000 (the spec gives no next_page)."""
    w = world(request)
    team = w.store.teams.get(w.store.check_gid(path_gid(request, "team_gid"), "team"))
    if team is None or team.workspace not in actor(request).workspaces:
        raise not_found(path_gid(request, "team_gid"))
    users = sorted((w.store.users[u] for u in team.members), key=lambda u: u.name.lower())
    return reply_list(request, "user", [u.gid for u in users[:2000]], paginated=False)


async def get_user_workspace_memberships(request: web.Request) -> web.Response:
    """GET /users/{gid|email|me}/workspace_memberships: the user's place in each workspace the caller shares."""
    w, me = world(request), actor(request)
    user = w.store.user_path(request.match_info["user_gid"], me)
    found = [
        m.gid for m in w.store.workspace_memberships.values() if m.user == user.gid and m.workspace in me.workspaces
    ]
    return reply_list(request, "workspace_membership", found)


def _date_param(request: web.Request, name: str) -> date | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise bad_request(f"{name}: Not a valid date: {raw}") from None


async def get_ooo_entries(request: web.Request) -> web.Response:
    """GET /ooo_entries?user=&workspace=[&start_date&end_date]: entries overlapping the window."""
    w, me = world(request), actor(request)
    user = w.store.user_for(query_required(request, "user"), me)
    ws = w.store.workspace_for(query_required(request, "workspace"), me)
    start, end = _date_param(request, "start_date"), _date_param(request, "end_date")
    entries = [
        e
        for e in w.store.ooo.values()
        if e.user == user.gid
        and e.workspace == ws.gid
        and (start is None or e.end_date >= start)
        and (end is None or e.start_date <= end)
    ]
    entries.sort(key=lambda e: (e.start_date, int(e.gid)))
    return reply_list(request, "ooo_entry", [e.gid for e in entries])


def routes() -> list[web.RouteDef]:
    return [
        web.get("/users/me", get_user),
        web.get("/users/{user_gid}", get_user),
        web.get("/users", get_users),
        web.get("/workspaces", get_workspaces),
        web.get("/workspaces/{workspace_gid}", get_workspace),
        web.get("/workspaces/{workspace_gid}/users", get_workspace_users),
        web.get("/ooo_entries", get_ooo_entries),
        web.get("/teams/{team_gid}/users", get_team_users),
        web.get("/users/{user_gid}/workspace_memberships", get_user_workspace_memberships),
    ]
