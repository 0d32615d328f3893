"""Socket Mode in the Slack emulator: apps.connections.open tickets, the WebSocket link, envelopes, acks, retries."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from .models import JSON

ENVELOPE_TYPES = frozenset({"events_api", "slash_commands", "interactive"})
# Slack waits three seconds for an envelope's ack.
ACK_TIMEOUT = 3.0
# An unacked events_api envelope is sent again like an Events API retry over HTTP: nearly at once, after a
# minute, after five minutes; then Slack gives up. Commands and interactions are never retried.
RETRY_DELAYS = (0.0, 60.0, 300.0)
# hello.debug_info.approximate_connection_time in the real sample: seconds before Slack refreshes a link.
CONNECTION_TIME = 18060
APP, SLACK = "app", "slack"


@dataclass
class Envelope:
    """One delivery attempt over the link (a retry is a new envelope) and the app's ack."""

    envelope_id: str
    type: str
    payload: JSON
    accepts_response_payload: bool
    retry_attempt: int | None = None  # events_api only, 0 on the first attempt
    retry_reason: str | None = None
    connection: int | None = None  # id of the Connection it went out on; None when no link was open
    ack: JSON | None = None  # the app's message, {"envelope_id": ..., "payload"?: ...}; also a late one
    timed_out: bool = False  # no ack within the ack timeout
    elapsed: float = 0.0  # seconds until the ack or the timeout

    @property
    def acked(self) -> bool:
        return self.ack is not None and not self.timed_out

    @property
    def response(self) -> JSON | None:
        """The ack's payload when Slack acts on it (slash commands, view submissions), else None."""
        if not self.acked or not self.accepts_response_payload or self.ack is None:
            return None
        payload = self.ack.get("payload")
        return payload if isinstance(payload, dict) else None

    def to_json(self) -> JSON:
        """The envelope as it goes over the socket (socket_mode.envelope.*.json)."""
        body: JSON = {
            "envelope_id": self.envelope_id,
            "payload": self.payload,
            "type": self.type,
            "accepts_response_payload": self.accepts_response_payload,
        }
        if self.retry_attempt is not None:
            body["retry_attempt"] = self.retry_attempt
            body["retry_reason"] = self.retry_reason or ""
        return body


@dataclass(eq=False)
class Connection:
    """One WebSocket link the app opened with a ticket from apps.connections.open."""

    id: int
    ticket: str
    host: str
    socket: web.WebSocketResponse = field(repr=False)
    sent: list[JSON] = field(default_factory=list)  # what Slack sent on it, hello first
    received: list[Any] = field(default_factory=list)  # the app's text frames, decoded when they are JSON
    pings: int = 0  # WebSocket pings from the app, each answered with a pong
    pongs: list[bytes] = field(default_factory=list)  # the app's answers to Slack's pings
    refresh_requested: bool = False  # sent a `disconnect` message: the app should open a new link
    closed_by: str | None = None  # "app" or "slack" once closed
    close_code: int | None = None

    @property
    def open(self) -> bool:
        return self.closed_by is None and not self.socket.closed

    async def send(self, message: JSON) -> None:
        self.sent.append(message)
        await self.socket.send_str(json.dumps(message))


class SocketMode:
    """Slack's Socket Mode servers for one app: the app-level token, link tickets, open links and every envelope.
    `ack_timeout` and `retry_delays` may be changed by tests (e.g. 0.2 s and (0.0,) to see a retry quickly)."""

    def __init__(self, *, app_id: str, seed: int, root_url: Callable[[], str]) -> None:
        self.app_id = app_id
        # Its own random source, so that using Socket Mode does not change the ids the emulator mints elsewhere.
        self._rng = random.Random(f"socket-mode-{seed}")
        digits = "".join(self._rng.choice(string.digits) for _ in range(13))
        self.app_token = f"xapp-1-{app_id}-{digits}-{self._rng.getrandbits(256):064x}"
        self.ack_timeout = ACK_TIMEOUT
        self.retry_delays: tuple[float, ...] = RETRY_DELAYS
        self.connection_time = CONNECTION_TIME
        self.connections: list[Connection] = []
        self.envelopes: list[Envelope] = []
        self._root_url = root_url
        self._tickets: set[str] = set()
        self._by_id: dict[str, Envelope] = {}
        self._acks: dict[str, asyncio.Future[None]] = {}
        self._pongs: dict[bytes, asyncio.Future[None]] = {}
        self._link_waiters: list[asyncio.Future[None]] = []
        self._retries: set[asyncio.Task[None]] = set()

    # what tests look at

    @property
    def live(self) -> list[Connection]:
        """The open links, oldest first."""
        return [c for c in self.connections if c.open]

    def envelope(self, envelope_id: str) -> Envelope | None:
        return self._by_id.get(envelope_id)

    # apps.connections.open and the link

    def open_url(self) -> str:
        """A WebSocket URL with a fresh ticket, as apps.connections.open answers; each ticket opens one link."""
        ticket = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        self._tickets.add(ticket)
        return f"ws{self._root_url().removeprefix('http')}/link/?ticket={ticket}&app_id={self.app_id}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """GET /link/: upgrade to a WebSocket, say hello, then read acks and pings until either side closes."""
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.json_response({"ok": False, "error": "invalid_ticket"}, status=401)
        self._tickets.discard(ticket)
        socket = web.WebSocketResponse(autoping=False)  # pings are answered (and counted) below
        await socket.prepare(request)
        number = len(self.connections) + 1
        connection = Connection(id=number, ticket=ticket, host=f"applink-{number}-{ticket[:8]}", socket=socket)
        self.connections.append(connection)
        await connection.send(self._hello(connection))
        for waiter in self._link_waiters:
            if not waiter.done():
                waiter.set_result(None)
        try:
            await self._read(connection)
        finally:
            if connection.closed_by is None:
                connection.closed_by, connection.close_code = APP, socket.close_code
        return socket

    def _hello(self, connection: Connection) -> JSON:
        return {
            "type": "hello",
            "num_connections": len(self.live),
            "debug_info": {
                "host": connection.host,
                "build_number": 10,
                "approximate_connection_time": self.connection_time,
            },
            "connection_info": {"app_id": self.app_id},
        }

    async def _read(self, connection: Connection) -> None:
        socket = connection.socket
        while True:
            message = await socket.receive()
            if message.type is WSMsgType.TEXT:
                self._on_text(connection, message.data)
            elif message.type is WSMsgType.PING:
                connection.pings += 1
                await socket.pong(message.data)
            elif message.type is WSMsgType.PONG:
                data = bytes(message.data)
                connection.pongs.append(data)
                waiter = self._pongs.get(data)
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)
            elif message.type is WSMsgType.CLOSE:
                if connection.closed_by is None:
                    connection.closed_by, connection.close_code = APP, int(message.data)
                return
            elif message.type in {WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR}:
                return

    def _on_text(self, connection: Connection, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            connection.received.append(data)
            return
        connection.received.append(message)
        if not isinstance(message, dict):
            return
        envelope = self._by_id.get(str(message.get("envelope_id")))
        if envelope is None or envelope.ack is not None:
            return  # an unknown envelope or a second ack changes nothing
        envelope.ack = message
        waiter = self._acks.get(envelope.envelope_id)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # sending

    async def send(
        self,
        type: str,
        payload: JSON,
        *,
        accepts_response_payload: bool = False,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
    ) -> Envelope:
        """Send one envelope over an open link and wait up to `ack_timeout` for its ack. An unacked first
        events_api envelope is sent again in the background (retry_attempt 1, 2…, retry_reason "timeout")."""
        if type not in ENVELOPE_TYPES:
            raise ValueError(f"Slack sends no {type!r} envelopes; expected one of {sorted(ENVELOPE_TYPES)}")
        if type == "events_api" and retry_attempt is None:
            retry_attempt, retry_reason = 0, ""
        envelope = self._envelope(type, payload, accepts_response_payload, retry_attempt, retry_reason)
        await self._attempt(envelope)
        if envelope.timed_out and type == "events_api" and retry_attempt == 0 and self.retry_delays:
            task = asyncio.get_running_loop().create_task(self._retry(envelope))
            self._retries.add(task)
            task.add_done_callback(self._retries.discard)
        return envelope

    def _envelope(
        self, type: str, payload: JSON, accepts: bool, retry_attempt: int | None, retry_reason: str | None
    ) -> Envelope:
        envelope_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        envelope = Envelope(envelope_id, type, payload, accepts, retry_attempt, retry_reason)
        self.envelopes.append(envelope)
        self._by_id[envelope_id] = envelope
        return envelope

    async def _retry(self, first: Envelope) -> None:
        for attempt, delay in enumerate(self.retry_delays, start=1):
            await asyncio.sleep(delay)
            envelope = self._envelope(first.type, first.payload, first.accepts_response_payload, attempt, "timeout")
            await self._attempt(envelope)
            if envelope.acked:
                return

    async def _attempt(self, envelope: Envelope) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + self.ack_timeout
        waiter: asyncio.Future[None] = loop.create_future()
        self._acks[envelope.envelope_id] = waiter
        tried: set[int] = set()
        try:
            while envelope.connection is None:
                connection = self._pick(tried)
                if connection is None:
                    if not await self._wait_for_link(deadline - loop.time()):
                        break
                    continue
                tried.add(connection.id)
                with contextlib.suppress(ConnectionError):  # the link broke as we wrote: Slack tries another
                    await connection.send(envelope.to_json())
                    envelope.connection = connection.id
            if envelope.connection is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter, max(0.0, deadline - loop.time()))
        finally:
            self._acks.pop(envelope.envelope_id, None)
        envelope.timed_out = envelope.ack is None
        envelope.elapsed = loop.time() - started

    def _pick(self, tried: set[int]) -> Connection | None:
        # The newest link that is not being refreshed: a link asked to reconnect gets no new work.
        candidates = [c for c in self.live if c.id not in tried]
        fresh = [c for c in candidates if not c.refresh_requested]
        pool = fresh or candidates
        return pool[-1] if pool else None

    async def _wait_for_link(self, timeout: float) -> bool:
        if timeout <= 0:
            return False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._link_waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._link_waiters.remove(waiter)

    # what Slack does to links

    async def disconnect(self, reason: str = "refresh_requested", connection: Connection | None = None) -> None:
        """Send ``{"type": "disconnect", "reason": ...}`` on one link (default: every open one); the app is expected
        to open a new link and close the old one. Slack sends "warning" first and "refresh_requested" when due."""
        for target in [connection] if connection is not None else self.live:
            target.refresh_requested = True
            await target.send({"type": "disconnect", "reason": reason, "debug_info": {"host": target.host}})

    async def drop(self, connection: Connection | None = None, code: int = WSCloseCode.GOING_AWAY) -> None:
        """Close one link (default: every open one) from Slack's side without warning."""
        for target in [connection] if connection is not None else self.live:
            target.closed_by, target.close_code = SLACK, int(code)
            await target.socket.close(code=code)

    async def ping(self, connection: Connection, timeout: float = 1.0) -> bool:
        """Send a WebSocket ping on a link; whether the app answered with a pong within `timeout` seconds."""
        data = f"slack-ping:{len(connection.pongs)}:{self._rng.getrandbits(32)}".encode()
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pongs[data] = waiter
        try:
            await connection.socket.ping(data)
            await asyncio.wait_for(waiter, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._pongs.pop(data, None)

    async def stop(self) -> None:
        """Stop retrying and close every link, as when the emulator shuts down."""
        for task in list(self._retries):
            task.cancel()
        await asyncio.gather(*self._retries, return_exceptions=True)
        await self.drop()
