"""views.* methods of the emulated Web API: modals need a fresh trigger_id, Home tabs a user and home type."""

from __future__ import annotations

from .blocks import check_view
from .context import Context, Handler
from .errors import ApiError
from .models import JSON


def _view(ctx: Context, kind: str | None = None) -> JSON:
    view = ctx.params.json_object("view")
    if view is None:
        raise ApiError("invalid_arguments", messages=["[ERROR] missing required field: view"])
    if kind and view.get("type") != kind:
        raise ApiError("invalid_arguments", messages=[f"[ERROR] view type must be {kind} [json-pointer:/view/type]"])
    check_view(view)
    return view


def views_open(ctx: Context) -> JSON:
    view = _view(ctx, "modal")
    trigger = ctx.ws.use_trigger(ctx.params.get("trigger_id"))
    return {"ok": True, "view": ctx.ws.views.open(trigger.user_id, view).to_json()}


def views_push(ctx: Context) -> JSON:
    view = _view(ctx, "modal")
    trigger = ctx.ws.use_trigger(ctx.params.get("trigger_id"))
    return {"ok": True, "view": ctx.ws.views.push(trigger.user_id, view).to_json()}


def views_update(ctx: Context) -> JSON:
    view_id, external_id = ctx.params.get("view_id"), ctx.params.get("external_id")
    if not view_id and not external_id:
        raise ApiError("invalid_arguments", messages=["[ERROR] either view_id or external_id is required"])
    target = ctx.ws.views.find(view_id, external_id)
    view = _view(ctx, target.type)
    return {"ok": True, "view": ctx.ws.views.update(target, view, ctx.params.get("hash")).to_json()}


def views_publish(ctx: Context) -> JSON:
    user_id = ctx.params.get("user_id")
    if user_id not in ctx.ws.users:
        raise ApiError("invalid_arguments", messages=["invalid `user_id`"])
    view = _view(ctx, "home")
    if not ctx.ws.home_tab_enabled:
        raise ApiError("not_enabled")
    return {"ok": True, "view": ctx.ws.views.publish(user_id, view, ctx.params.get("hash")).to_json()}


METHODS: dict[str, Handler] = {
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}
