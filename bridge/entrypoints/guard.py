"""The outermost aiohttp middleware: a request id for every request, the body cap before any byte is read, and
a logged, id-carrying answer instead of aiohttp's bare 500 page if a handler ever fails."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bridge.logs import REQUEST_ID, request_id_from

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
REQUEST_ID_HEADER = "X-Request-Id"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    token = REQUEST_ID.set(request_id)
    try:
        response = await _answer(request, handler, request_id)
        response.headers[REQUEST_ID_HEADER] = request_id
        return response
    finally:
        REQUEST_ID.reset(token)


async def _answer(request: web.Request, handler: Handler, request_id: str) -> web.StreamResponse:
    # A declared length over the cap is refused before reading (aiohttp's own client_max_size check reads the
    # first megabyte first); a chunked body without a length is cut off by that check at the same size.
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        log.info("refused a %d-byte body on %s %s", request.content_length, request.method, request.path)
        return web.json_response({"error": "request body too large"}, status=413)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        exc.headers[REQUEST_ID_HEADER] = request_id
        raise
    except UnicodeDecodeError:
        # Only request bytes are decoded on the way in; a body or form in another encoding is the caller's error.
        return web.json_response({"error": "body is not UTF-8"}, status=400)
    except Exception:
        log.exception("unhandled error answering %s %s", request.method, request.path)
        return web.json_response({"error": "internal error", "request_id": request_id}, status=500)
