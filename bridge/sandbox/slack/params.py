"""Typed access to a Web API call's arguments, whether they came as a query, a form or a JSON body."""

from __future__ import annotations

import json
from typing import Any

from .errors import ApiError

# Structured arguments arrive as JSON strings in form bodies and as objects in JSON bodies; each has its own
# error code when it does not parse, as Slack answers.
_FORMAT_ERRORS = {
    "blocks": "invalid_blocks_format",
    "attachments": "invalid_attachments",
    "metadata": "invalid_metadata_format",
    "unfurls": "invalid_unfurls_format",
    "view": "invalid_arguments",
}


class Params:
    """The merged arguments of one call."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def get(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None or value == "":
            return None
        return value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) else f"{value}"

    def require(self, key: str, error: str) -> str:
        value = self.get(key)
        if value is None:
            raise ApiError(error)
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.raw.get(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return f"{value}".lower() in {"1", "true", "yes"}

    def number(self, key: str, default: int) -> int:
        value = self.raw.get(key)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError("invalid_arguments", messages=[f"[ERROR] {key} must be an integer"]) from None

    def json(self, key: str) -> Any:
        """The decoded structure, or None when the argument is absent."""
        value = self.raw.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError(_FORMAT_ERRORS.get(key, "invalid_arguments")) from None
        return value

    def json_list(self, key: str) -> list[Any] | None:
        value = self.json(key)
        if value is not None and not isinstance(value, list):
            raise ApiError(_FORMAT_ERRORS.get(key, "invalid_arguments"))
        return value

    def json_object(self, key: str) -> dict[str, Any] | None:
        value = self.json(key)
        if value is not None and not isinstance(value, dict):
            raise ApiError(_FORMAT_ERRORS.get(key, "invalid_arguments"))
        return value
