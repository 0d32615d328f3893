"""The aiohttp application: auth, recording, faults and limits around every endpoint under /api/1.0."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from bridge.sandbox.asana import api_people, api_projects, api_tasks, api_webhooks, oauth
from bridge.sandbox.asana.errors import ApiError
from bridge.sandbox.asana.http import API_PREFIX, BODY_KEY, PAYLOAD_KEY, USER_KEY, WORLD, reply_error
from bridge.sandbox.asana.limits import Faults, InFlight, RateLimiter
from bridge.sandbox.asana.world import World

log = logging.getLogger(__name__)


@dataclass
class RecordedRequest:
    """One API call as the emulator saw it; `path` is below /api/1.0, like the spec's paths."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 0  # 0: the connection was dropped on purpose
    response: Any = None
    user: str | None = None
    response_headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Gate:
    """What stands between a request and its handler."""

    faults: Faults
    rate: RateLimiter
    in_flight: InFlight
    requests: list[RecordedRequest] = field(default_factory=list)


GATE = web.AppKey("asana_gate", Gate)


def _parse_body(request: web.Request, raw: bytes) -> Any:
    if not raw:
        return None
    if request.content_type == "application/x-www-form-urlencoded":
        # curl -d resource=… as in Asana's own examples: form fields are the data object.
        return {"data": dict(parse_qsl(raw.decode()))}
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, "Could not parse request data, invalid JSON") from None


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@web.middleware
async def _gatekeeper(request: web.Request, handler: Any) -> web.StreamResponse:
    gate = request.app[GATE]
    w = request.app[WORLD]
    if request.path.startswith("/-/"):
        answer: web.StreamResponse = await handler(
            request
        )  # the OAuth endpoints: no bearer token, their own log (w.oauth.requests)
        return answer
    path = request.path.removeprefix(API_PREFIX) or "/"
    record = RecordedRequest(request.method, path, dict(request.query), None)
    gate.requests.append(record)
    token: str | None = None
    write = request.method not in ("GET", "HEAD", "OPTIONS")
    entered = False
    dropped = False
    response: web.StreamResponse
    raw = await request.read()
    try:
        body_error: ApiError | None = None
        try:
            record.body = request[BODY_KEY] = _parse_body(request, raw)
        except ApiError as exc:
            body_error, record.body = exc, raw.decode(errors="replace")
        token = _bearer(request)
        user = w.store.user_by_token(token) if token and not w.oauth.expired(token) else None
        if token is None or user is None:
            raise ApiError(401, "Not Authorized")  # Asana checks the token before anything else
        if body_error is not None:
            raise body_error
        request[USER_KEY] = user
        record.user = user.gid
        gate.rate.check(token)
        gate.in_flight.enter(token, write)
        entered = True
        # Faults act after the slot is taken, so an injected delay holds it like a slow Asana would.
        fault = gate.faults.match(request.method, path)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)  # a slow Asana, for client timeouts
            if fault.drop_connection:
                dropped = True
                if request.transport is not None:
                    request.transport.close()
                raise ApiError(500, "connection dropped")
            error = fault.error()
            if error is not None:
                raise error
        if not request.path.startswith(API_PREFIX + "/"):
            raise web.HTTPNotFound()
        response = await handler(request)
    except ApiError as exc:
        response = reply_error(request, exc)
    except web.HTTPNotFound:
        response = reply_error(request, ApiError(404, "Not found"))
    except web.HTTPMethodNotAllowed:
        response = reply_error(request, ApiError(405, "Method not allowed"))
    except Exception:
        log.exception("asana emulator: %s %s failed", request.method, path)
        response = reply_error(request, ApiError(500, "Server Error"))
    finally:
        if entered and token is not None:
            gate.in_flight.leave(token, write)
    record.status = 0 if dropped else response.status
    record.response = request.get(PAYLOAD_KEY)
    record.response_headers = dict(response.headers)
    return response


def build_app(world: World, gate: Gate) -> web.Application:
    app = web.Application(middlewares=[_gatekeeper])
    app[WORLD] = world
    app[GATE] = gate
    for module in (api_people, api_projects, api_tasks, api_webhooks):
        for route in module.routes():
            app.router.add_route(route.method, API_PREFIX + route.path, route.handler)
    for route in oauth.routes(world.oauth):
        app.router.add_route(route.method, route.path, route.handler)
    return app
