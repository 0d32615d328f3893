"""The error a Slack Web API method answers with: HTTP 200 and ``{"ok": false, "error": ...}``."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Raised inside a method handler; the emulator turns it into Slack's error body."""

    def __init__(self, error: str, *, messages: list[str] | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra: dict[str, Any] = dict(extra)
        if messages:
            # Slack explains schema failures in response_metadata.messages ("[ERROR] ... [json-pointer:/blocks/0]").
            self.extra["response_metadata"] = {"messages": messages}

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, **self.extra}
