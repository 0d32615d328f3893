"""bridge.logs: token-shaped strings and configured secrets never reach a log line, JSON lines, request ids."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bridge import logs

SECRETS = {
    "bot": "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx",
    "app": "xapp-1-A0123456789-1234567890123-abcdef0123456789",
    "user": "xoxp-1111-2222-3333-abcdef",
    "pat1": "1/1200000000000001:0123456789abcdef0123456789abcdef",
    "pat2": "2/1200000000000001/1200000000000002:0123456789abcdef0123456789abcdef",
    "sandbox": "2/1200000000000001/sandbox-bridge-token",
}
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO, logs.Redactor]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    redactor = logs.Redactor([SIGNING_SECRET])
    logs.install(handler, redactor)
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, stream, redactor
    finally:
        logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_token_shapes_are_redacted(name: str) -> None:
    token = SECRETS[name]
    text = logs.Redactor()(f"calling with {token}, then 'Bearer {token}' and token={token}&x=1")
    assert token not in text and text.count(logs.REDACTED) == 3


def test_configured_secrets_and_bearer_values_are_redacted_but_ordinary_text_is_not() -> None:
    redactor = logs.Redactor([SIGNING_SECRET, "pw", ""])  # too short to redact without redacting words
    text = redactor(f"secret {SIGNING_SECRET}; Authorization: Bearer opaque.value-123; password pw; gid 1/2 ok")
    assert SIGNING_SECRET not in text and "opaque.value-123" not in text
    assert "password pw" in text and "gid 1/2 ok" in text
    redactor.add(["late-secret-value"])
    assert redactor("a late-secret-value b") == f"a {logs.REDACTED} b"


def test_messages_arguments_and_exception_text_are_redacted(
    captured: tuple[logging.Logger, io.StringIO, logs.Redactor],
) -> None:
    logger, stream, _ = captured
    logger.warning("auth failed for %s with %s", SECRETS["bot"], SIGNING_SECRET)
    try:
        raise RuntimeError(f"invalid_auth: token {SECRETS['pat2']} refused (signing {SIGNING_SECRET})")
    except RuntimeError:
        logger.exception("call failed")
    output = stream.getvalue()
    assert all(secret not in output for secret in [*SECRETS.values(), SIGNING_SECRET])
    first, second = lines(stream)
    assert first["message"] == f"auth failed for {logs.REDACTED} with {logs.REDACTED}"
    assert "RuntimeError: invalid_auth: token [redacted] refused" in str(second["exception"])


def test_json_lines_carry_time_level_logger_and_the_request_id(
    captured: tuple[logging.Logger, io.StringIO, logs.Redactor],
) -> None:
    logger, stream, _ = captured
    logger.info("outside a request")
    token = logs.REQUEST_ID.set("req-42")
    try:
        logger.info("inside one: %d", 7)
    finally:
        logs.REQUEST_ID.reset(token)
    outside, inside = lines(stream)
    assert set(outside) == {"time", "level", "logger", "message"}
    assert inside["request_id"] == "req-42" and inside["message"] == "inside one: 7"
    assert inside["level"] == "INFO" and inside["logger"] == "tests.logs" and str(inside["time"]).endswith("+00:00")


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        ("abc-123", True),
        ("6f1c2b0e-52f4-4a5e-8c45-1f0e7b1d2c3a", True),
        ("a" * 129, False),
        ("has space", False),
        ("newline\nvalue", False),
        ("ünïcode", False),
        ("", False),
        (None, False),
    ],
)
def test_request_ids_are_taken_only_when_sane(header: str | None, kept: bool) -> None:
    request_id = logs.request_id_from(header)
    assert (request_id == header) is kept
    if not kept:
        assert len(request_id) == 32 and request_id.isalnum()


def test_configure_refuses_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="BRIDGE_LOG_FORMAT"):
        logs.configure(fmt="xml")
