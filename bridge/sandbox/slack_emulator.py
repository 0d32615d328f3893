"""The Slack Web API emulator (implemented in bridge.sandbox.slack): state, rules, limits, faults, recording."""

from __future__ import annotations

from bridge.sandbox.slack import (
    ApiError,
    Call,
    Channel,
    Ephemeral,
    Fault,
    Faults,
    Message,
    SlackEmulator,
    Unfurl,
    User,
    View,
    Workspace,
)

__all__ = [
    "ApiError",
    "Call",
    "Channel",
    "Ephemeral",
    "Fault",
    "Faults",
    "Message",
    "SlackEmulator",
    "Unfurl",
    "User",
    "View",
    "Workspace",
]
