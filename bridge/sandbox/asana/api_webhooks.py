"""Endpoints for webhooks (handshake inside the create call) and the Events API (sync tokens)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from aiohttp import web

from bridge.sandbox.asana.errors import bad_request, not_found
from bridge.sandbox.asana.http import actor, data, path_gid, query_required, reply, reply_list, world
from bridge.sandbox.asana.model import User, Webhook, WebhookFilter
from bridge.sandbox.asana.world import World

_ACTIONS = frozenset({"changed", "added", "removed", "deleted", "undeleted"})
# Higher-level resources must name filters and cannot filter on fields (webhooks guide, "Filtering").
_HIGHER_LEVEL = frozenset({"workspace", "team", "portfolio"})
_WATCHABLE = frozenset({"project", "task", "section", "workspace"})


def _resource(w: World, me: User, gid: Any, name: str) -> tuple[str, str]:
    """(gid, kind) of a resource the caller can see, for webhooks and event streams."""
    gid = w.store.check_gid(gid, name)
    kind = w.store.kind_of(gid)
    if kind == "project":
        w.store.project_for(gid, me, name)
    elif kind == "task":
        w.store.task_for(gid, me, name)
    elif kind == "section":
        w.store.section_for(gid, me, name)
    elif kind == "workspace":
        w.store.workspace_for(gid, me, name)
    else:
        raise not_found(gid)
    return gid, kind


def _filters(raw: Any, kind: str) -> list[WebhookFilter]:
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise bad_request("filters: Must be an array")
    if kind in _HIGHER_LEVEL and not raw:
        raise bad_request(f"filters: Webhooks on a {kind} must specify filters")
    out = []
    for item in raw:
        if not isinstance(item, dict) or set(item) - {"resource_type", "resource_subtype", "action", "fields"}:
            raise bad_request("filters: Each filter is an object of resource_type, resource_subtype, action, fields")
        for key in ("resource_type", "resource_subtype", "action"):
            if key in item and not isinstance(item[key], str):
                raise bad_request(f"filters.{key}: Must be a string")
        if "action" in item and item["action"] not in _ACTIONS:
            raise bad_request(f"filters.action: Unknown action: {item['action']}")
        fields = item.get("fields")
        if fields is not None:
            if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
                raise bad_request("filters.fields: Must be an array of strings")
            if item.get("action") != "changed":
                raise bad_request("filters.fields: Only valid with action changed")
            if kind in _HIGHER_LEVEL:
                raise bad_request(f"filters.fields: Not supported on {kind} webhooks")
        out.append(WebhookFilter(item.get("resource_type"), item.get("resource_subtype"), item.get("action"), fields))
    return out


def _own_hook(w: World, me: User, gid: str) -> Webhook:
    hook = w.store.webhooks.get(gid)
    if hook is None or hook.owner != me.gid:
        raise not_found(gid)
    return hook


def _hook_payload(w: World, request: web.Request, hook: Webhook) -> dict[str, Any]:
    return w.renderer.one("webhook", hook.gid, request.query.get("opt_fields"))


async def post_webhook(request: web.Request) -> web.Response:
    """POST /webhooks: the handshake happens here, before the 201, as Asana does."""
    w, me = world(request), actor(request)
    body = data(request)
    if not isinstance(body, dict):
        raise bad_request("data: Must be an object")
    target = w.store.require(body, "target")
    parsed = urlparse(target) if isinstance(target, str) else None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise bad_request(f"target: Not a valid URL: {target}")
    resource, kind = _resource(w, me, w.store.require(body, "resource"), "resource")
    if kind not in _WATCHABLE:
        raise bad_request(f"resource: Cannot create a webhook on a {kind}")
    filters = _filters(body.get("filters"), kind)
    secret = await w.delivery.handshake(target)
    hook = Webhook(
        gid=w.store.new_gid(),
        resource=resource,
        resource_kind=kind,
        workspace=w.store.resource_workspace(resource) or "",
        target=target,
        secret=secret,
        owner=me.gid,
        created_at=w.clock.now(),
        filters=filters,
    )
    w.store.webhooks[hook.gid] = hook
    return reply(request, {"data": _hook_payload(w, request, hook), "X-Hook-Secret": secret}, status=201)


async def get_webhooks(request: web.Request) -> web.Response:
    """GET /webhooks?workspace=[&resource=]: only the webhooks this user registered."""
    w, me = world(request), actor(request)
    ws = w.store.workspace_for(query_required(request, "workspace"), me)
    resource = request.query.get("resource")
    hooks = [
        h.gid
        for h in w.store.webhooks.values()
        if h.owner == me.gid and h.workspace == ws.gid and (resource is None or h.resource == resource)
    ]
    return reply_list(request, "webhook", hooks)


async def get_webhook(request: web.Request) -> web.Response:
    w = world(request)
    hook = _own_hook(w, actor(request), path_gid(request, "webhook_gid"))
    return reply(request, {"data": _hook_payload(w, request, hook)})


async def put_webhook(request: web.Request) -> web.Response:
    """PUT /webhooks/{gid}: replaces the whole filter list."""
    w = world(request)
    hook = _own_hook(w, actor(request), path_gid(request, "webhook_gid"))
    body = data(request)
    if not isinstance(body, dict):
        raise bad_request("data: Must be an object")
    hook.filters = _filters(w.store.require(body, "filters"), hook.resource_kind)
    return reply(request, {"data": _hook_payload(w, request, hook)})


async def delete_webhook(request: web.Request) -> web.Response:
    w = world(request)
    hook = _own_hook(w, actor(request), path_gid(request, "webhook_gid"))
    del w.store.webhooks[hook.gid]
    w.delivery.forget(hook.gid)
    return reply(request, {"data": {}})


async def get_events(request: web.Request) -> web.Response:
    """GET /events?resource=&sync=: 412 with a fresh token first, then pages of at most 100 events."""
    w, me = world(request), actor(request)
    resource, kind = _resource(w, me, query_required(request, "resource"), "resource")
    if kind not in ("project", "task"):
        raise bad_request(f"resource: Cannot subscribe to events on a {kind}")
    events, sync, has_more = w.hub.poll(resource, request.query.get("sync"))
    return reply(request, {"data": [e.to_json() for e in events], "sync": sync, "has_more": has_more})


def routes() -> list[web.RouteDef]:
    return [
        web.post("/webhooks", post_webhook),
        web.get("/webhooks", get_webhooks),
        web.get("/webhooks/{webhook_gid}", get_webhook),
        web.put("/webhooks/{webhook_gid}", put_webhook),
        web.delete("/webhooks/{webhook_gid}", delete_webhook),
        web.get("/events", get_events),
    ]
