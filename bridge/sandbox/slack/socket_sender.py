"""Slack's side of a Socket Mode app: the payloads SimulatedSlack builds, sent as envelopes over the link."""

from __future__ import annotations

import json

from .delivery import JSON_TYPE, Delivery, SentRequest
from .sender import SlackSender
from .socket_mode import Envelope, SocketMode

# The envelope type that carries each kind of request.
ENVELOPE_TYPES = {"event": "events_api", "command": "slash_commands", "interactive": "interactive"}
# Interactions whose ack payload Slack acts on (response_action, options); other interactions are acked empty.
RESPONDING_INTERACTIONS = frozenset({"view_submission", "block_suggestion"})


class SocketModeSlack(SlackSender):
    """Delivers to the app connected to the emulator's Socket Mode link; the answer is the app's ack, so the
    SlackUser actions work as over HTTP. There is no signature and no url_verification in Socket Mode."""

    timeout_reason = "timeout"

    @property
    def link(self) -> SocketMode:
        return self.emulator.socket_mode

    async def deliver(
        self, request: SentRequest, *, retry_num: int | None = None, retry_reason: str | None = None
    ) -> Delivery:
        """Send `request`'s payload in an envelope (as retry `retry_num` when given) and return the ack."""
        kind = ENVELOPE_TYPES.get(request.kind)
        if kind is None:
            raise ValueError(f"Slack sends no {request.kind} over Socket Mode")
        accepts = kind == "slash_commands" or (
            kind == "interactive" and request.payload.get("type") in RESPONDING_INTERACTIONS
        )
        envelope = await self.link.send(
            kind,
            request.payload,
            accepts_response_payload=accepts,
            retry_attempt=retry_num,
            retry_reason=None if retry_num is None else retry_reason or self.timeout_reason,
        )
        delivery = answer(request, envelope)
        self.sent.append(delivery)
        return delivery


def answer(request: SentRequest, envelope: Envelope) -> Delivery:
    """The ack as a Delivery: status 200 and the payload Slack uses as the body, or a timeout (status 0)."""
    if not envelope.acked:
        return Delivery(0, {}, "", request, envelope.elapsed, timed_out=True, envelope=envelope.to_json())
    payload = envelope.response or {}
    if not payload:
        headers, body = {}, ""
    elif set(payload) == {"text"} and isinstance(payload["text"], str):
        # Bolt wraps a plain-text ack as {"text": ...}; over HTTP the same ack is a text/plain body.
        headers, body = {"Content-Type": "text/plain; charset=utf-8"}, payload["text"]
    else:
        headers, body = {"Content-Type": JSON_TYPE}, json.dumps(payload)
    return Delivery(200, headers, body, request, envelope.elapsed, envelope=envelope.to_json(), ack=envelope.ack)
