"""Emulated Slack: the Web API emulator (with Socket Mode), the simulated platform that calls the app over
HTTP or Socket Mode, and simulated people."""

from __future__ import annotations

from .delivery import Delivery, SentRequest
from .emulator import SlackEmulator
from .errors import ApiError
from .faults import Fault, Faults
from .models import Call, Channel, Ephemeral, Message, Unfurl, User
from .sender import MANIFEST_EVENTS, SimulatedSlack, SlackSender
from .signing import signature
from .socket_mode import Connection, Envelope, SocketMode
from .socket_sender import SocketModeSlack
from .surfaces import View
from .user import SlackUser
from .workspace import Workspace

__all__ = [
    "MANIFEST_EVENTS",
    "ApiError",
    "Call",
    "Channel",
    "Connection",
    "Delivery",
    "Envelope",
    "Ephemeral",
    "Fault",
    "Faults",
    "Message",
    "SentRequest",
    "SimulatedSlack",
    "SlackEmulator",
    "SlackSender",
    "SlackUser",
    "SocketMode",
    "SocketModeSlack",
    "Unfurl",
    "User",
    "View",
    "Workspace",
    "signature",
]
