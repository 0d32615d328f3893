"""Who may read the report: signed, expiring links and the operator's static token. Pure.

A link grants one scope (a link id, or "all" for the combined report) until its expiry: its signature is
HMAC-SHA256 over "<scope>\\n<expiry as Unix seconds>" with the server's report secret. Changing that secret
revokes every link handed out. Signatures and tokens are compared in constant time.

A link's query is `scope=…&expires=…&sig=…`; `link=…` picks which report to show (by default its scope), so a
link to one channel's report that asks for another's (or for all) is refused.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlencode

from bridge.domain.report import ALL

LINK_LIFETIME = timedelta(days=7)


class Refusal(StrEnum):
    """Why a request gets no report. MISSING is a 401 (say who you are); the others are 403."""

    MISSING = "missing"
    MALFORMED = "malformed"
    TAMPERED = "tampered"
    EXPIRED = "expired"
    OTHER_SCOPE = "other_scope"


@dataclass(frozen=True)
class Credentials:
    """What a request presented: the signed-link parameters and/or an operator token."""

    scope: str | None = None
    expires: str | None = None
    sig: str | None = None
    token: str | None = None


@dataclass(frozen=True)
class Grant:
    """What a request may read: every link (`scope` = ALL) or one."""

    scope: str
    expires: int | None = None  # Unix seconds; None for the operator token

    def allows(self, wanted: str) -> bool:
        return self.scope == ALL or self.scope == wanted


def signature(secret: bytes, scope: str, expires: int) -> str:
    return hmac.new(secret, f"{scope}\n{expires}".encode(), hashlib.sha256).hexdigest()


def signed_query(secret: bytes, scope: str, *, now: datetime, lifetime: timedelta = LINK_LIFETIME) -> str:
    """The query string of a link to `scope`'s report, valid for `lifetime` from `now`."""
    expires = int((now + lifetime).timestamp())
    return urlencode({"scope": scope, "expires": expires, "sig": signature(secret, scope, expires)})


def check(
    credentials: Credentials, *, secret: bytes, operator_token: str | None, wanted: str, now: datetime
) -> Grant | Refusal:
    """The grant for reading `wanted` (a link id or ALL), or why not."""
    if credentials.token is not None:
        if operator_token and hmac.compare_digest(credentials.token.encode(), operator_token.encode()):
            return Grant(ALL)
        return Refusal.TAMPERED
    if credentials.sig is None and credentials.expires is None:
        return Refusal.MISSING
    if credentials.sig is None or credentials.expires is None or credentials.scope is None:
        return Refusal.MALFORMED
    try:
        expires = int(credentials.expires)
    except ValueError:
        return Refusal.MALFORMED
    expected = signature(secret, credentials.scope, expires)
    if not hmac.compare_digest(expected.encode(), credentials.sig.encode()):
        return Refusal.TAMPERED
    if now.timestamp() >= expires:
        return Refusal.EXPIRED
    grant = Grant(credentials.scope, expires)
    return grant if grant.allows(wanted) else Refusal.OTHER_SCOPE
