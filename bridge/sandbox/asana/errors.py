"""The error an emulated endpoint raises, rendered as Asana's `{"errors": [...]}` envelope."""

from __future__ import annotations

from typing import Any

# Asana adds a random phrase to 5xx errors so support can find the incident.
SERVER_ERROR_PHRASE = "6 sad squid snuggle softly"
RATE_LIMIT_MESSAGE = "You've made too many requests and hit a rate limit. Please retry after the given amount of time."


class ApiError(Exception):
    """An HTTP error answer: status, message, extra headers and extra top-level body keys."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message}
        if self.status >= 500:
            error["phrase"] = SERVER_ERROR_PHRASE
        return {"errors": [error], **self.extra}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(gid: str) -> ApiError:
    return ApiError(404, f"Unknown object: {gid}")


def forbidden(message: str = "Forbidden") -> ApiError:
    return ApiError(403, message)


def rate_limited(retry_after: float) -> ApiError:
    seconds = max(0, int(-(-retry_after // 1)))  # Retry-After is whole seconds, rounded up
    return ApiError(429, RATE_LIMIT_MESSAGE, headers={"Retry-After": str(seconds)})
