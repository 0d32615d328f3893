"""Request and response helpers the endpoint modules share: who is calling, the `data` body, replies."""

from __future__ import annotations

import ast
from typing import Any

from aiohttp import web

from bridge.sandbox.asana.errors import ApiError, bad_request
from bridge.sandbox.asana.model import User
from bridge.sandbox.asana.world import World

API_PREFIX = "/api/1.0"
WORLD = web.AppKey("asana_world", World)
USER_KEY = web.RequestKey("asana_user", User)
BODY_KEY = web.RequestKey("asana_body", object)  # the parsed JSON body, None when empty
PAYLOAD_KEY = web.RequestKey("asana_payload", dict)  # the JSON answer, as recorded


def world(request: web.Request) -> World:
    return request.app[WORLD]


def actor(request: web.Request) -> User:
    return request[USER_KEY]


def api_path(request: web.Request) -> str:
    return request.path.removeprefix(API_PREFIX) or "/"


def data(request: web.Request) -> Any:
    """The `data` object of the body. The client sends opts['body'] both as JSON and as `?body=` (a repr)."""
    body = request.get(BODY_KEY)
    if body is None and "body" in request.query:
        try:
            body = ast.literal_eval(request.query["body"])
        except (ValueError, SyntaxError):
            raise bad_request("Could not parse request data") from None
    if not isinstance(body, dict) or "data" not in body:
        raise bad_request("data: Missing input")
    return body["data"]


def opt_fields(request: web.Request) -> str | None:
    return request.query.get("opt_fields")


def path_gid(request: web.Request, name: str) -> str:
    value = request.match_info[name]
    if not value.isdigit():
        raise bad_request(f"{name}: Not a Long: {value}")
    return value


def query_required(request: web.Request, name: str) -> str:
    value = request.query.get(name)
    if value is None or value == "":
        raise bad_request(f"{name}: Missing input")
    return value


def reply(
    request: web.Request, payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    request[PAYLOAD_KEY] = payload  # the middleware records exactly what was sent
    return web.json_response(payload, status=status, headers=headers)


def reply_error(request: web.Request, error: ApiError) -> web.Response:
    return reply(request, error.body(), status=error.status, headers=error.headers)


def reply_one(request: web.Request, kind: str, gid: str, status: int = 200) -> web.Response:
    rendered = world(request).renderer.one(kind, gid, opt_fields(request))
    return reply(request, {"data": rendered}, status)


def reply_list(request: web.Request, kind: str, gids: list[str], *, paginated: bool = True) -> web.Response:
    """A collection; `paginated=False` for the few lists the spec gives no next_page (they ignore limit)."""
    w = world(request)
    if not paginated:
        return reply(request, {"data": w.renderer.many(kind, gids, opt_fields(request))})
    page, extra = w.paginator.page(gids, request.query, api_path(request), w.api_url)
    return reply(request, {"data": w.renderer.many(kind, page, opt_fields(request)), **extra})
