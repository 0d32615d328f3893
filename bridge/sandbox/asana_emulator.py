"""The public entry point of the Asana REST API emulator (implemented in bridge.sandbox.asana)."""

from __future__ import annotations

from bridge.sandbox.asana.actor import Actor
from bridge.sandbox.asana.app import RecordedRequest
from bridge.sandbox.asana.clock import Clock
from bridge.sandbox.asana.delivery import DeliveryRecord, DeliverySettings, sign
from bridge.sandbox.asana.emulator import AsanaEmulator
from bridge.sandbox.asana.errors import ApiError
from bridge.sandbox.asana.limits import Fault, Faults

__all__ = [
    "Actor",
    "ApiError",
    "AsanaEmulator",
    "Clock",
    "DeliveryRecord",
    "DeliverySettings",
    "Fault",
    "Faults",
    "RecordedRequest",
    "sign",
]
