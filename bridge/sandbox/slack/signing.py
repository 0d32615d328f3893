"""Slack's request signature (docs.slack.dev/authentication/verifying-requests-from-slack)."""

from __future__ import annotations

import hashlib
import hmac


def signature(secret: str, timestamp: str, body: str) -> str:
    """``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{raw body}`` keyed with the app's signing secret."""
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return f"v0={digest}"


def tampered(sig: str) -> str:
    """The same signature with its last hex digit changed: what a forged or corrupted request carries."""
    last = sig[-1]
    return sig[:-1] + ("0" if last != "0" else "1")
