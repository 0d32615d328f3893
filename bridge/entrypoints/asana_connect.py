"""GET /asana/oauth_redirect: where Asana's consent page sends a person back after `/asana connect`.

The query (code, state, error) is never logged (the access log leaves queries out); the page says how it ended.
"""

from __future__ import annotations

from aiohttp import web

from bridge import wording
from bridge.services.identity import Identities

REDIRECT_PATH = "/asana/oauth_redirect"


class AsanaConnectPage:
    def __init__(self, identities: Identities) -> None:
        self._identities = identities

    async def redirect(self, request: web.Request) -> web.Response:
        query = request.query
        finished = await self._identities.finish(
            state=query.get("state"), code=query.get("code"), error=query.get("error")
        )
        if finished.connected:
            return _page(200, wording.connected_page(finished.asana_name))
        return _page(400, wording.connect_failed_page(finished.reason))

    def routes(self) -> list[web.RouteDef]:
        return [web.get(REDIRECT_PATH, self.redirect)]


def _page(status: int, text: str) -> web.Response:
    # The page holds nothing worth caching, and a back button must not show a stale "connected".
    return web.Response(status=status, text=text, content_type="text/html", headers={"Cache-Control": "no-store"})
