"""The bridge's own errors for the outside APIs, so no slack_sdk or asana exception crosses a port."""

from __future__ import annotations


class ApiError(Exception):
    """An outside API refused or failed a call."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class AsanaError(ApiError):
    pass


class AsanaBadRequest(AsanaError):
    pass


class AsanaForbidden(AsanaError):
    """401/403: the bridge's Asana user may not do this (or its token is bad)."""


class AsanaNotFound(AsanaError):
    """404: gone, or not visible to the bridge's Asana user."""


class AsanaRateLimited(AsanaError):
    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, status=429)
        self.retry_after = retry_after


class AsanaUnavailable(AsanaError):
    """5xx, timeouts, refused connections: worth retrying later. `sent` says whether a write may have landed."""

    def __init__(self, message: str, *, status: int | None = None, sent: bool = True) -> None:
        super().__init__(message, status=status)
        self.sent = sent


class SyncTokenExpired(AsanaError):
    """412 from the Events API: events may have been missed; continue from `sync` after a re-crawl."""

    def __init__(self, sync: str) -> None:
        super().__init__("sync token invalid or too old", status=412)
        self.sync = sync


class OAuthRefused(AsanaError):
    """Asana's OAuth endpoint refused a code, a refresh token or the client; `code` is its RFC 6749 error."""

    def __init__(self, error: str) -> None:
        super().__init__(f"Asana OAuth refused: {error}", status=400, code=error)


class SlackError(ApiError):
    """A Slack Web API call answered ok=false (code holds Slack's error string) or failed. `retryable`: a 5xx, a
    429 (wait `retry_after` seconds first) or no answer at all (a timeout, a dropped connection)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retryable: bool = False,
        retry_after: float = 0.0,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.retryable = retryable
        self.retry_after = retry_after
