"""Hostile input, fuzzed: thousands of malformed, oversized, mis-signed and replayed requests against the real
bridge on a loopback port (SQLite, and PostgreSQL with fewer examples), sent with the standard library's HTTP
client so that nothing is tidied up on the way (duplicate headers, undecodable header bytes, chunked bodies).

Every answer must be below 500 and the one the request deserves; afterwards no table has gained or lost a row
(except the memory of Slack event ids, which validly signed events may add to), neither emulator saw a write, the
webhook's secret is the one from its handshake, and /healthz still says ok.
The bridge runs in its own thread and event loop, so that hypothesis drives the requests one by one (and can
shrink a failure to the smallest request that shows it).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Iterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bridge.adapters.store.tables import metadata
from bridge.domain.model import WebhookStatus
from bridge.sandbox.harness import LocalBridge, serve_locally
from bridge.sandbox.slack.delivery import SentRequest
from bridge.sandbox.world import SIGNING_SECRET, World, start_world
from tests.fixtures_db import postgres_database
from tests.fixtures_slack import SAMPLES as SLACK_SAMPLES
from tests.support import eventually

T = TypeVar("T")
SPECS = SLACK_SAMPLES.parent
SQLITE_EXAMPLES = 3000
POSTGRES_EXAMPLES = 500
MAX_BODY = 1024 * 1024
FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
# The table in which the bridge remembers Slack event ids (retry de-duplication): a validly signed event is
# Slack's by definition, and remembering its id is the one write such a request may cause.
SLACK_EVENT_MEMORY = "slack_events"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Slack Web API methods that read; anything else the bridge called would change something in Slack.
SLACK_READS = frozenset(
    {"auth.test", "users.info", "users.lookupByEmail", "conversations.info", "conversations.history"}
    | {"conversations.replies", "chat.getPermalink", "conversations.members"}
)


def profile(examples: int) -> settings:
    """Fixed and derandomized, so CI sends the same requests every run; no deadline (a request is I/O)."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


# ---------------------------------------------------------------------------------------------------------------
# requests


@dataclass
class Req:
    kind: str
    method: str
    path: str
    body: bytes = b""
    headers: Sequence[tuple[str, str | bytes]] = field(default_factory=list)
    chunked: bool = False
    expect: frozenset[int] = frozenset()  # the statuses this request deserves (empty: anything below 500)

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        return f"Req({self.kind} {self.method} {self.path[:80]} headers={self.headers!r} body={self.body[:200]!r})"


def sign_slack(body: bytes, timestamp: str) -> str:
    base = b"v0:" + timestamp.encode("utf-8", "surrogateescape") + b":" + body
    return "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()


def sign_asana(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def slack_headers(content_type: str | None, timestamp: str | None, signature: str | bytes | None) -> list[Any]:
    headers: list[Any] = []
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    if timestamp is not None:
        headers.append(("X-Slack-Request-Timestamp", timestamp))
    if signature is not None:
        headers.append(("X-Slack-Signature", signature))
    return headers


@dataclass(frozen=True)
class Material:
    """What the strategies build on: real requests Slack sent to this bridge, payload samples, the hooks."""

    real_requests: tuple[SentRequest, ...]
    samples: tuple[tuple[str, Any], ...]  # (how Slack sends it: "json" | "form" | "payload", decoded payload)
    active_key: str
    active_secret: str
    stale_key: str
    delivery: bytes


def load_samples() -> tuple[tuple[str, Any], ...]:
    samples: list[tuple[str, Any]] = []
    for path in sorted(SLACK_SAMPLES.glob("*.json")):
        name = path.name
        if name.startswith(("web_api.", "socket_mode.")):
            continue
        data = json.loads(path.read_text())
        if name.startswith("slash_command"):
            samples.append(("form", data))
        elif data.get("type") in ("event_callback", "url_verification"):
            samples.append(("json", data))
        else:
            samples.append(("payload", data))
    return tuple(samples)


def encode_sample(way: str, data: Any) -> tuple[bytes, str]:
    if way == "json":
        return json.dumps(data).encode(), JSON_TYPE
    if way == "form":
        fields = data if isinstance(data, dict) else {"x": data}
        return urlencode({str(k): v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}).encode(), FORM
    return urlencode({"payload": json.dumps(data)}).encode(), FORM


# Strategies -----------------------------------------------------------------------------------------------------

header_text = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), max_size=40)
header_bytes = st.binary(max_size=40).filter(lambda b: b"\r" not in b and b"\n" not in b)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
garbage_bodies = st.one_of(
    st.binary(max_size=2048),
    st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=4).map(lambda d: urlencode(d).encode()),
    st.integers(1, 400).map(lambda n: b"[" * n * 10 + b"]" * n * 10),  # nesting deep enough to hit recursion
    st.sampled_from([b"", b"payload=", b"payload=%7B", b"payload=null", b"command=%2Ftask", b"{}", b"null"]),
)
content_types = st.one_of(
    st.sampled_from(
        [
            FORM,
            JSON_TYPE,
            "application/json; charset=utf-8",
            "application/x-www-form-urlencoded; charset=nope",
            "text/plain",
            "multipart/form-data; boundary=x",
            "",
            "application/json;;;",
        ]
    ),
    header_text,
    st.none(),
)
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
now_offsets = st.integers(-200, 200)  # well inside the window, either way
# Past the window by a second is enough (a request only gets older on its way); ahead of it, leave half a minute:
# on a busy machine a request can take seconds to be read, and "301 s ahead" would arrive inside the window.
stale_offsets = st.one_of(st.integers(301, 10**9), st.integers(-(10**9), -330), st.sampled_from([301, 302, -330]))
bad_timestamps = st.one_of(
    header_text.filter(lambda t: not t.isascii() or not t.isdigit()),
    st.integers(0, 2**31).map(lambda n: f" {n}"),
    st.integers(10**9, 2 * 10**9).flatmap(
        lambda n: st.sampled_from([f"+{n}", f"{n:_}", f"{n}.0", f"{n}e0", f"-{n}", str(n).translate(FULLWIDTH)])
    ),
)


@st.composite
def mutated_sample(draw: st.DrawFn, samples: tuple[tuple[str, Any], ...]) -> tuple[bytes, str]:
    """A real payload shape with one value replaced by something of another type, or removed."""
    way, data = draw(st.sampled_from(samples))
    data = json.loads(json.dumps(data))
    paths: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append((node, key))
                walk(value)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                paths.append((node, index))
                walk(value)

    walk(data)
    for _ in range(draw(st.integers(1, 3))):
        parent, key = draw(st.sampled_from(paths))
        if isinstance(parent, dict) and draw(st.booleans()):
            parent.pop(key, None)
        elif isinstance(parent, dict) or key < len(parent):
            parent[key] = draw(json_values)
    return encode_sample(way, data)


def slack_requests(m: Material) -> st.SearchStrategy[Req]:
    real_bodies = st.sampled_from([r.body.encode() for r in m.real_requests])
    sample_bodies = st.sampled_from([encode_sample(way, data)[0] for way, data in m.samples])
    known_bodies = real_bodies | sample_bodies
    queries = st.one_of(st.just(""), st.text(max_size=30).map(lambda q: "?" + quote(q, safe="=&")))

    @st.composite
    def unsigned(draw: st.DrawFn) -> Req:
        body = draw(garbage_bodies | known_bodies)
        signature = draw(
            st.none()
            | header_text
            | header_bytes
            | st.binary(min_size=32, max_size=32).map(lambda b: "v0=" + b.hex())
            | st.just("v0=" + "0" * 64)
        )
        timestamp = draw(st.none() | st.just(str(int(time.time()))) | bad_timestamps)
        return Req(
            "slack: unsigned or mis-signed",
            "POST",
            "/slack/events" + draw(queries),
            body,
            slack_headers(draw(content_types), timestamp, signature),
            chunked=draw(st.booleans()),
            expect=frozenset({400, 401, 415}),
        )

    @st.composite
    def signed_garbage(draw: st.DrawFn) -> Req:
        body = draw(garbage_bodies)
        timestamp = str(int(time.time()) + draw(now_offsets))
        content_type = draw(st.sampled_from([FORM, JSON_TYPE, "application/json; charset=latin-1"]))
        return Req(
            "slack: valid signature over garbage",
            "POST",
            "/slack/events" + draw(queries),
            body,
            slack_headers(content_type, timestamp, sign_slack(body, timestamp)),
            chunked=draw(st.booleans()),
            expect=frozenset({200, 400}),
        )

    @st.composite
    def stale(draw: st.DrawFn) -> Req:
        body = draw(known_bodies)
        timestamp = str(int(time.time()) - draw(stale_offsets))
        return Req(
            "slack: replayed outside the 5-minute window",
            "POST",
            "/slack/events",
            body,
            slack_headers(FORM if body[:1] != b"{" else JSON_TYPE, timestamp, sign_slack(body, timestamp)),
            expect=frozenset({401}),
        )

    @st.composite
    def bad_timestamp(draw: st.DrawFn) -> Req:
        body = draw(known_bodies)
        timestamp = draw(bad_timestamps)
        return Req(
            "slack: non-numeric timestamp, signed",
            "POST",
            "/slack/events",
            body,
            slack_headers(FORM, timestamp, sign_slack(body, timestamp)),
            expect=frozenset({401}),
        )

    @st.composite
    def wrong_body(draw: st.DrawFn) -> Req:
        signed = draw(known_bodies)
        sent = draw(
            st.one_of(
                st.integers(0, max(0, len(signed) - 1)).map(lambda n: signed[:n]),
                st.binary(min_size=1, max_size=20).map(lambda extra: signed + extra),
                st.integers(0, max(0, len(signed) - 1)).map(
                    lambda i: signed[:i] + bytes([signed[i] ^ 0x01]) + signed[i + 1 :] if signed else b"x"
                ),
            )
        )
        timestamp = str(int(time.time()))
        return Req(
            "slack: correct signature over another body",
            "POST",
            "/slack/events",
            sent,
            slack_headers(FORM if signed[:1] != b"{" else JSON_TYPE, timestamp, sign_slack(signed, timestamp)),
            expect=frozenset({401}),
        )

    @st.composite
    def replayed_real(draw: st.DrawFn) -> Req:
        real = draw(st.sampled_from(m.real_requests))
        body = real.body.encode()
        timestamp = str(int(time.time()) - draw(st.integers(301, 30 * 86400)))
        return Req(
            "slack: a real request of this run, replayed too late",
            "POST",
            "/slack/events",
            body,
            slack_headers(real.content_type, timestamp, sign_slack(body, timestamp)),
            expect=frozenset({401}),
        )

    @st.composite
    def signed_mutation(draw: st.DrawFn) -> Req:
        body, content_type = draw(mutated_sample(m.samples))
        timestamp = str(int(time.time()))
        return Req(
            "slack: real payload shape mutated, validly signed",
            "POST",
            "/slack/events",
            body,
            slack_headers(content_type, timestamp, sign_slack(body, timestamp)),
            expect=frozenset({200, 400}),
        )

    @st.composite
    def duplicated(draw: st.DrawFn) -> Req:
        body = draw(known_bodies)
        timestamp = str(int(time.time()))
        good = sign_slack(body, timestamp)
        headers = [("Content-Type", FORM), ("X-Slack-Request-Timestamp", timestamp)]
        pair = [("X-Slack-Signature", "v0=" + "1" * 64), ("X-Slack-Signature", good)]
        if draw(st.booleans()):
            pair.reverse()
        return Req(
            "slack: repeated signature headers", "POST", "/slack/events", body, headers + pair, expect=frozenset({400})
        )

    return st.one_of(
        unsigned(),
        signed_garbage(),
        stale(),
        bad_timestamp(),
        wrong_body(),
        replayed_real(),
        signed_mutation(),
        duplicated(),
    )


def asana_requests(m: Material) -> st.SearchStrategy[Req]:
    active = f"/asana/webhooks/{m.active_key}"

    @st.composite
    def unknown_hook(draw: st.DrawFn) -> Req:
        key = draw(st.text(min_size=1, max_size=200).filter(lambda k: k not in (m.active_key, m.stale_key)))
        body = draw(garbage_bodies | st.just(m.delivery))
        headers: list[Any] = [("Content-Type", JSON_TYPE), ("X-Hook-Signature", sign_asana(m.active_secret, body))]
        if draw(st.booleans()):
            headers = [("X-Hook-Secret", "f" * 64)]
        return Req(
            "asana: unknown hook key",
            "POST",
            "/asana/webhooks/" + quote(key, safe=""),
            body,
            headers,
            expect=frozenset({404}),
        )

    @st.composite
    def mis_signed(draw: st.DrawFn) -> Req:
        body = draw(garbage_bodies | st.just(m.delivery))
        other = draw(garbage_bodies.filter(lambda b: b != body))
        signature = draw(
            st.none()
            | header_text
            | header_bytes
            | st.just(sign_asana("b" * 64, body))
            | st.just(sign_asana(m.active_secret, other))
            | st.just(sign_asana(m.active_secret, body)[:-1])
            | st.just(sign_asana(m.active_secret, body).upper() + "0")
        )
        headers: list[Any] = [("Content-Type", JSON_TYPE)]
        if signature is not None:
            headers.append(("X-Hook-Signature", signature))
        return Req(
            "asana: delivery with a wrong or missing X-Hook-Signature",
            "POST",
            active,
            body,
            headers,
            chunked=draw(st.booleans()),
            expect=frozenset({401}),
        )

    @st.composite
    def wrong_type(draw: st.DrawFn) -> Req:
        # Another declared type; a signed delivery that declares none is Asana's and is taken (see the receiver).
        content_type = draw(
            st.sampled_from([FORM, "text/plain", "text/html; charset=utf-8", "multipart/form-data; boundary=x"])
            | st.from_regex(r"(text|image|audio)/[a-z]{1,8}|application/x-[a-z]{1,8}", fullmatch=True)
        )
        headers: list[Any] = [
            ("X-Hook-Signature", sign_asana(m.active_secret, m.delivery)),
            ("Content-Type", content_type),
        ]
        return Req(
            "asana: signed delivery, not JSON by type", "POST", active, m.delivery, headers, expect=frozenset({415})
        )

    @st.composite
    def signed_garbage(draw: st.DrawFn) -> Req:
        body = draw(garbage_bodies.filter(lambda b: _not_a_delivery(b)))
        headers = [("Content-Type", JSON_TYPE), ("X-Hook-Signature", sign_asana(m.active_secret, body))]
        return Req("asana: valid signature over garbage", "POST", active, body, headers, expect=frozenset({400}))

    @st.composite
    def takeover(draw: st.DrawFn) -> Req:
        key = draw(st.sampled_from([m.active_key, m.stale_key]))
        secret = draw(st.one_of(st.binary(min_size=32, max_size=32).map(bytes.hex), header_text, header_bytes))
        body = draw(st.just(b"") | garbage_bodies)
        return Req(
            "asana: handshake for an active or stale hook",
            "POST",
            f"/asana/webhooks/{key}",
            body,
            [("X-Hook-Secret", secret)],
            expect=frozenset({403}),
        )

    return st.one_of(unknown_hook(), mis_signed(), wrong_type(), signed_garbage(), takeover())


CONTROL = frozenset([*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F])


def rejected_by_parser(req: Req) -> bool:
    for _, value in req.headers:
        raw = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
        if CONTROL.intersection(raw) or len(raw) > 8190:
            return True
    return False


def _not_a_delivery(body: bytes) -> bool:
    """A body the receiver must refuse as malformed (the empty heartbeat is a real delivery, answered 200)."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return True
    return not (isinstance(parsed, dict) and isinstance(parsed.get("events"), list) and not parsed["events"])


def other_requests(m: Material) -> st.SearchStrategy[Req]:
    paths = st.sampled_from(["/slack/events", f"/asana/webhooks/{m.active_key}", "/healthz", "/metrics", "/report"])

    @st.composite
    def oversized(draw: st.DrawFn) -> Req:
        size = draw(st.sampled_from([MAX_BODY + 1, MAX_BODY + 4096, 2 * MAX_BODY]))
        path = draw(st.sampled_from(["/slack/events", f"/asana/webhooks/{m.active_key}"]))
        chunked = draw(st.booleans())
        headers = [("Content-Type", JSON_TYPE)]
        if path.startswith("/asana"):
            headers.append(("X-Hook-Signature", "0" * 64))
        else:
            timestamp = str(int(time.time()))
            headers += slack_headers(None, timestamp, "v0=" + "0" * 64)
        return Req(
            "any: body over 1 MB" + (" (chunked)" if chunked else ""),
            "POST",
            path,
            b"{" + b" " * (size - 2) + b"}",
            headers,
            chunked=chunked,
            expect=frozenset({413}),
        )

    @st.composite
    def methods(draw: st.DrawFn) -> Req:
        method = draw(st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "POST"]))
        path = draw(paths | st.text(max_size=40).map(lambda p: "/" + quote(p)))
        query = draw(st.just("") | st.text(max_size=20).map(lambda q: "?" + quote(q, safe="=&")))
        return Req("any: other methods, paths and queries", method, path + query, draw(st.just(b"") | garbage_bodies))

    @st.composite
    def odd_headers(draw: st.DrawFn) -> Req:
        name = draw(
            st.sampled_from(["X-Request-Id", "Content-Type", "X-Slack-Signature", "X-Hook-Signature", "X-Junk"])
        )
        value: str | bytes = draw(header_bytes | header_text | st.integers(8200, 20000).map(lambda n: "a" * n))
        path = draw(paths)
        return Req("any: odd header bytes, huge headers", "POST", path, draw(garbage_bodies), [(name, value)])

    return st.one_of(oversized(), methods(), odd_headers())


query_values = st.one_of(
    header_text,
    st.text(max_size=200),
    st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
    st.sampled_from(["", "access_denied", "invalid_request", "<script>alert(1)</script>", "%00", "a" * 3000]),
)


@st.composite
def oauth_callbacks(draw: st.DrawFn) -> Req:
    """Returns from Asana's consent page nobody started: any state, code and error, repeated or missing. No state
    the bridge handed out is among them, so each is refused with a page and nothing is kept or asked of Asana."""
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(["state", "code", "error", "error_description", "x"]), query_values),
            max_size=6,
        )
    )
    method = draw(st.sampled_from(["GET", "GET", "GET", "HEAD", "POST"]))
    path = "/asana/oauth_redirect" + ("?" + urlencode(pairs) if pairs else "")
    body = draw(st.just(b"") | garbage_bodies) if method == "POST" else b""
    return Req("asana: OAuth return nobody started", method, path, body, expect=frozenset({400, 405, 414}))


def all_requests(m: Material) -> st.SearchStrategy[Req]:
    return st.one_of(slack_requests(m), asana_requests(m), other_requests(m), oauth_callbacks())


# ---------------------------------------------------------------------------------------------------------------
# the bridge in a thread of its own, and a plain HTTP client


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="bridge-loop", daemon=True)
        self.thread.start()

    def run(self, coroutine: Awaitable[T], timeout: float = 60.0) -> T:
        async def wrapped() -> T:
            return await coroutine

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class Client:
    """http.client on one kept-alive connection (a new one when the bridge closes it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._conn: http.client.HTTPConnection | None = None
        self.sent = 0

    def send(self, req: Req) -> tuple[int, http.client.HTTPMessage]:
        self.sent += 1
        for attempt in (1, 2):
            conn = self._conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self._conn = conn
            try:
                conn.putrequest(req.method, req.path, skip_accept_encoding=True)
                for name, value in req.headers:
                    # Header bytes as given: text goes as UTF-8, which HTTP/1.1 does not promise anyone reads.
                    conn.putheader(name, value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value)
                if req.chunked:
                    conn.putheader("Transfer-Encoding", "chunked")
                elif req.body or req.method in WRITE_METHODS:
                    conn.putheader("Content-Length", str(len(req.body)))
                conn.endheaders()
                try:
                    if req.chunked:
                        for start in range(0, len(req.body), 65536):
                            piece = req.body[start : start + 65536]
                            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
                        conn.send(b"0\r\n\r\n")
                    elif req.body:
                        conn.send(req.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the bridge answered before reading the whole body (413, 415, 401), and closed
                response = conn.getresponse()
                response.read()
                if response.will_close:
                    self.close()
                return response.status, response.headers
            except (ConnectionError, http.client.HTTPException, TimeoutError):
                # The bridge may answer an oversized body (413) and close before reading it all.
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@dataclass
class Target:
    loop: LoopThread
    world: World
    local: LocalBridge[Any]
    material: Material
    database_url: str

    @property
    def port(self) -> int:
        return int(self.local.url.rsplit(":", 1)[1])


async def _link_and_capture(world: World, local: LocalBridge[Any]) -> None:
    """Real traffic first: link the channel (webhook handshake and all) and make one task, as people would."""
    ana = local.slack.user("ana")
    answer = await ana.slash_command("/asana", f"link https://app.asana.com/0/{world.project}/list", world.channel)
    assert answer.status == 200
    await eventually(lambda: [m for m in world.slack.messages(world.channel) if "Linked this channel" in m.text])
    made = await ana.slash_command("/task", "Fuzz baseline task", world.channel)
    assert made.status == 200
    await eventually(lambda: [t for t in world.asana.store.tasks.values() if t.name == "Fuzz baseline task"])
    await local.bridge.background.drain(10)
    await _settled(local)


async def _settled(local: LocalBridge[Any]) -> None:
    """Wait until the baseline's echoes are through: Asana's deliveries and the poller's first page are in the
    inbox and relayed, and the row counts hold still for a second."""
    previous: list[dict[str, int]] = []

    async def still() -> bool:
        counts = await _counts(local.database_url)
        inbox = await local.bridge.store.inbox_counts()
        previous.append(counts)
        await asyncio.sleep(0.25)
        idle = not inbox.get("pending") and not inbox.get("landed")
        return idle and len(previous) >= 4 and all(c == counts for c in previous[-4:])

    await eventually(still, timeout=30)


async def _counts(database_url: str) -> dict[str, int]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return {
                t.name: (await conn.execute(select(func.count()).select_from(t))).scalar_one()
                for t in metadata.sorted_tables
            }
    finally:
        await engine.dispose()


@contextlib.contextmanager
def serving(tmp_path: Path, pg_server: str | None) -> Iterator[Target]:
    loop = LoopThread()
    stack = AsyncExitStack()

    async def start() -> Target:
        world = await start_world()
        stack.push_async_callback(world.stop)
        database_url = None
        if pg_server is not None:
            database_url = await stack.enter_async_context(postgres_database(make_url(pg_server)))
        local = await serve_locally(
            world, tmp_path, retry_delays=(0.1, 0.3), database_url=database_url, asana_oauth=True
        )
        stack.push_async_callback(local.close)
        await _link_and_capture(world, local)
        hooks = [h for h in await local.bridge.store.list_webhooks() if h.status is WebhookStatus.ACTIVE]
        assert len(hooks) == 1 and hooks[0].secret
        # A registration that never got its handshake, long ago: it must not take one now.
        stale = hooks[0].__class__(
            hook_key="stale-registration",
            team_id=hooks[0].team_id,
            channel_id=hooks[0].channel_id,
            project_gid=hooks[0].project_gid,
            status=WebhookStatus.PENDING,
            created_at=local.bridge.clock.now().replace(year=2020),
        )
        await local.bridge.store.save_webhook(stale)
        delivery = json.loads(
            SPECS.joinpath("asana-samples/webhook-delivery-task-created-in-project-section.json").read_text()
        )
        material = Material(
            real_requests=tuple(d.request for d in local.slack.sent if d.request is not None),
            samples=load_samples(),
            active_key=hooks[0].hook_key,
            active_secret=str(hooks[0].secret),
            stale_key=stale.hook_key,
            delivery=json.dumps(delivery["task_created_in_project"]).encode(),
        )
        return Target(loop, world, local, material, local.database_url)

    try:
        yield loop.run(start(), timeout=120)
    finally:
        with contextlib.suppress(Exception):
            loop.run(stack.aclose(), timeout=60)
        loop.stop()


# ---------------------------------------------------------------------------------------------------------------
# the test


def fuzz(target: Target, examples: int, label: str) -> None:
    m = target.material
    client = Client(target.port)
    before = target.loop.run(_counts(target.database_url))
    slack_calls, asana_calls = len(target.world.slack.calls), len(target.world.asana.requests)
    oauth_calls = len(target.world.asana.oauth.requests)
    statuses: Counter[int] = Counter()
    kinds: Counter[str] = Counter()
    signed_events = 0
    started = time.monotonic()

    @profile(examples)
    @given(req=all_requests(m))
    def one(req: Req) -> None:
        nonlocal signed_events
        status, headers = client.send(req)
        statuses[status] += 1
        kinds[req.kind] += 1
        signed_events += req.kind.startswith("slack: real payload") or req.kind == "slack: valid signature over garbage"
        assert status < 500, f"{status} for {req!r}"
        if req.expect:
            # aiohttp's parser refuses control characters in header values with a 400 before any handler runs.
            assert status in req.expect | ({400} if rejected_by_parser(req) else set()), (
                f"{status}, expected {sorted(req.expect)}, for {req!r}"
            )
        assert headers.get("X-Request-Id") or status == 400, f"no request id on {status} for {req!r}"

    try:
        one()
    finally:
        client.close()
    elapsed = time.monotonic() - started
    fives = sum(n for s, n in statuses.items() if s >= 500)
    print(f"\n[{label}] requests fuzzed: {client.sent}; 5xx seen ({fives}); {elapsed:.1f}s; statuses {dict(statuses)}")
    for kind, n in sorted(kinds.items()):
        print(f"  {n:5d}  {kind}")
    assert fives == 0

    after = target.loop.run(_counts(target.database_url))
    memory = after.pop(SLACK_EVENT_MEMORY) - before.pop(SLACK_EVENT_MEMORY)
    assert after == before
    assert 0 <= memory <= signed_events
    slack_writes = [c.method for c in target.world.slack.calls[slack_calls:] if c.method not in SLACK_READS]
    assert slack_writes == []
    asana_writes = [
        f"{r.method} {r.path}" for r in target.world.asana.requests[asana_calls:] if r.method in WRITE_METHODS
    ]
    assert asana_writes == []
    assert target.world.asana.oauth.requests[oauth_calls:] == []  # no code was ever exchanged
    hooks = {h.hook_key: h for h in target.loop.run(target.local.bridge.store.list_webhooks())}
    assert hooks[m.active_key].secret == m.active_secret and hooks[m.active_key].status is WebhookStatus.ACTIVE
    assert hooks[m.stale_key].secret is None and hooks[m.stale_key].status is WebhookStatus.PENDING

    health = http.client.HTTPConnection("127.0.0.1", target.port, timeout=10)
    health.request("GET", "/healthz")
    answer = health.getresponse()
    assert answer.status == 200, answer.read()
    body = json.loads(answer.read())
    problems = [p for p in body["problems"] if "stale-registration" not in p]
    assert body["checks"]["database"] == "ok" and problems == [], body
    health.close()


def test_fuzz_on_sqlite(tmp_path: Path) -> None:
    with serving(tmp_path, None) as target:
        fuzz(target, SQLITE_EXAMPLES, "sqlite")


@pytest.mark.postgres
def test_fuzz_on_postgres(tmp_path: Path, pg_server_url: str) -> None:
    with serving(tmp_path, pg_server_url) as target:
        fuzz(target, POSTGRES_EXAMPLES, "postgres")
