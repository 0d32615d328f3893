"""Logging for operators: request ids carried in a contextvar, one JSON object per line, secrets redacted.

`configure()` is called once by the CLI. Every handler on the root logger gets two filters: one that stamps the
record with the request id of the HTTP request being served (if any), and one that rewrites the message and the
exception text so that token-shaped strings and the configured secret values never reach a log line.
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

REQUEST_ID: ContextVar[str | None] = ContextVar("bridge_request_id", default=None)
REDACTED = "[redacted]"
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(request_id_suffix)s: %(message)s"

# Slack tokens (bot, user, app-level, refresh, config), Asana personal access tokens ("1/<user>:<hex>",
# "2/<user>/<app>:<hex>"), and whatever follows "Bearer " in a copied Authorization header.
TOKEN_PATTERNS = (
    r"\bxox[abposre]-[A-Za-z0-9-]+",
    r"\bxapp-[A-Za-z0-9-]+",
    r"\b[0-2]/\d{4,}(?:/\d+)?[:/][A-Za-z0-9_-]{8,}",
    r"(?<=[Bb]earer )[^\s'\"]+",
)
# A secret shorter than this would redact ordinary words; such values are only caught by the patterns.
MIN_SECRET_LENGTH = 6
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_from(header: str | None) -> str:
    """The caller's X-Request-Id when it is a plain short token (it goes into logs and a header), else a new one."""
    if header is not None and header.isascii() and _SANE_REQUEST_ID.fullmatch(header):
        return header
    # Random, not secret: 32 hex digits like uuid4().hex, without a getrandom() system call per request.
    return f"{random.getrandbits(128):032x}"


class Redactor:
    """Replaces token-shaped strings and known secret values with [redacted]."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern = re.compile("|".join(TOKEN_PATTERNS))
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        self._secrets.update(s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH)
        # Longest first, so that a secret containing another is replaced whole.
        known = sorted(self._secrets, key=len, reverse=True)
        self._pattern = re.compile("|".join([*(re.escape(s) for s in known), *TOKEN_PATTERNS]))

    def __call__(self, text: str) -> str:
        return self._pattern.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message and exception text through a Redactor (installed on handlers, so that it
    sees the records of every logger, including slack_sdk's, aiohttp's and SQLAlchemy's)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad %-format in a third-party log call: keep the template, drop the arguments
            message = str(record.msg)
        record.msg, record.args = self.redactor(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor(record.stack_info)
        return True


class RequestIdFilter(logging.Filter):
    """Stamps the record with the id of the HTTP request whose handling logged it (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = REQUEST_ID.get()
        record.request_id = request_id
        record.request_id_suffix = f" [{request_id}]" if request_id else ""
        return True


class ProtocolErrorFilter(logging.Filter):
    """aiohttp logs a request its HTTP parser refuses (bad header bytes, an 8 KB header line) as an ERROR with a
    traceback, though it answered 400 and nothing failed: one INFO line instead, so junk cannot flood the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and type(error).__module__ == "aiohttp.http_exceptions":
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg, record.args, record.exc_info, record.exc_text = (
                "refused a malformed HTTP request: %s",
                (first_line[:200],),
                None,
                None,
            )
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (when known), exception (when any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(*, level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> Redactor:
    """Set up the root logger once (stderr); return the Redactor so that secrets learned later can be added."""
    if fmt not in FORMATS:
        raise ValueError(f"BRIDGE_LOG_FORMAT: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    redactor = Redactor(secrets)
    install(handler, redactor)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.server").addFilter(ProtocolErrorFilter())
    return redactor


def install(handler: logging.Handler, redactor: Redactor) -> None:
    """Put the request-id stamp and the redaction on one handler (tests use it on their capturing handler)."""
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactingFilter(redactor))


class AccessLog(AbstractAccessLogger):
    """One short line per request: method, path without its query (report links carry signatures and tokens
    there), status and milliseconds. aiohttp's default format costs a strftime and a dozen atoms a request, a
    tenth of the event loop's time under a burst of slash commands."""

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info("%s %s %d %.1fms", request.method, request.path, response.status, time * 1000)
