"""Emulated Slack: the Web API emulator, the simulated platform that calls the app, and simulated people."""

from __future__ import annotations

from .delivery import Delivery, SentRequest
from .emulator import SlackEmulator
from .errors import ApiError
from .faults import Fault, Faults
from .models import Call, Channel, Ephemeral, Message, Unfurl, User
from .sender import MANIFEST_EVENTS, SimulatedSlack
from .signing import signature
from .surfaces import View
from .user import SlackUser
from .workspace import Workspace

__all__ = [
    "MANIFEST_EVENTS",
    "ApiError",
    "Call",
    "Channel",
    "Delivery",
    "Ephemeral",
    "Fault",
    "Faults",
    "Message",
    "SentRequest",
    "SimulatedSlack",
    "SlackEmulator",
    "SlackUser",
    "Unfurl",
    "User",
    "View",
    "Workspace",
    "signature",
]
