"""The simulated Slack platform and users (implemented in bridge.sandbox.slack): signed requests to the app."""

from __future__ import annotations

from bridge.sandbox.slack import MANIFEST_EVENTS, Delivery, SentRequest, SimulatedSlack, SlackUser, signature

__all__ = ["MANIFEST_EVENTS", "Delivery", "SentRequest", "SimulatedSlack", "SlackUser", "signature"]
