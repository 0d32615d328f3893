"""Asana list pagination: `limit` 1..100, opaque `offset` tokens we issued, `next_page` or null."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from bridge.sandbox.asana.errors import bad_request

T = TypeVar("T")

# Without `limit` Asana answers the whole (legacy) list but truncates large ones (pagination guide).
UNPAGINATED_MAX = 1000


class Paginator:
    """Issues offset tokens bound to the path they came from; only tokens issued here are accepted."""

    def __init__(self, unpaginated_max: int = UNPAGINATED_MAX) -> None:
        self.unpaginated_max = unpaginated_max
        self._offsets: dict[str, tuple[str, int]] = {}

    def page(
        self, items: Sequence[T], query: Mapping[str, str], path: str, api_url: str
    ) -> tuple[list[T], dict[str, Any]]:
        """The slice to return and the envelope keys to add (`next_page`, or nothing when unpaginated)."""
        raw_limit = query.get("limit")
        start = 0
        offset = query.get("offset")
        if offset is not None:
            issued = self._offsets.get(offset)
            if issued is None or issued[0] != path:
                raise bad_request("offset: Your pagination token is invalid or has expired.")
            start = issued[1]
        if raw_limit is None:
            return list(items[start : start + self.unpaginated_max]), {}
        try:
            limit = int(raw_limit)
        except ValueError:
            raise bad_request(f"limit: Not an integer: {raw_limit}") from None
        if not 1 <= limit <= 100:
            raise bad_request("limit: Must be between 1 and 100, inclusive")
        chunk = list(items[start : start + limit])
        end = start + len(chunk)
        if end >= len(items):
            return chunk, {"next_page": None}
        token = _token()
        self._offsets[token] = (path, end)
        params = {k: v for k, v in query.items() if k not in ("offset", "body")}
        params["offset"] = token
        next_path = f"{path}?{urlencode(params)}"
        return chunk, {"next_page": {"offset": token, "path": next_path, "uri": f"{api_url}{next_path}"}}


def _token() -> str:
    # Real offsets look like JWTs; any opaque url-safe string will do.
    return base64.urlsafe_b64encode(b'{"typ":"JWT"}.' + secrets.token_bytes(18)).decode().rstrip("=")
