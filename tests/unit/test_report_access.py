"""Signed report links and the operator token: which requests get which report, and why the others do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest

from bridge.domain.report import ALL
from bridge.domain.report_access import Credentials, Grant, Refusal, check, signature, signed_query

SECRET = b"s3cret-s3cret-s3cret"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LINK = "T1-C1"


def link_to(scope: str, *, secret: bytes = SECRET, now: datetime = NOW, days: int = 7) -> Credentials:
    query = {k: v[0] for k, v in parse_qs(signed_query(secret, scope, now=now, lifetime=timedelta(days=days))).items()}
    return Credentials(scope=query["scope"], expires=query["expires"], sig=query["sig"])


def flip(text: str) -> str:
    return text[:-1] + ("0" if text[-1] != "0" else "1")


GOOD = link_to(LINK)
EXPIRES = int((NOW + timedelta(days=7)).timestamp())

CASES = [
    ("a link to its own report", GOOD, LINK, NOW, Grant(LINK, EXPIRES)),
    ("a link to all, for one link", link_to(ALL), LINK, NOW, Grant(ALL, EXPIRES)),
    ("a link to all, for all", link_to(ALL), ALL, NOW, Grant(ALL, EXPIRES)),
    ("nothing at all", Credentials(), LINK, NOW, Refusal.MISSING),
    ("a link asking for another link", GOOD, "T1-C2", NOW, Refusal.OTHER_SCOPE),
    ("a link asking for all", GOOD, ALL, NOW, Refusal.OTHER_SCOPE),
    ("a flipped signature", Credentials(LINK, GOOD.expires, flip(GOOD.sig or "")), LINK, NOW, Refusal.TAMPERED),
    ("a later expiry", Credentials(LINK, str(EXPIRES + 1), GOOD.sig), LINK, NOW, Refusal.TAMPERED),
    ("another scope", Credentials("T1-C2", GOOD.expires, GOOD.sig), "T1-C2", NOW, Refusal.TAMPERED),
    ("signed with another secret", link_to(LINK, secret=b"rotated-rotated-rotated"), LINK, NOW, Refusal.TAMPERED),
    ("the last second it works", GOOD, LINK, NOW + timedelta(days=7, seconds=-1), Grant(LINK, EXPIRES)),
    ("expired", GOOD, LINK, NOW + timedelta(days=7), Refusal.EXPIRED),
    ("no signature", Credentials(LINK, GOOD.expires, None), LINK, NOW, Refusal.MALFORMED),
    ("no scope", Credentials(None, GOOD.expires, GOOD.sig), LINK, NOW, Refusal.MALFORMED),
    ("an expiry that is no number", Credentials(LINK, "soon", GOOD.sig), LINK, NOW, Refusal.MALFORMED),
    ("the operator token", Credentials(token="op-token"), LINK, NOW, Grant(ALL)),
    ("a wrong operator token", Credentials(token="op-tokem"), LINK, NOW, Refusal.TAMPERED),
]


@pytest.mark.parametrize(
    ("credentials", "wanted", "now", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_check(credentials: Credentials, wanted: str, now: datetime, expected: Grant | Refusal) -> None:
    assert check(credentials, secret=SECRET, operator_token="op-token", wanted=wanted, now=now) == expected


def test_without_an_operator_token_configured_no_token_is_accepted() -> None:
    for token in ("", "anything"):
        verdict = check(Credentials(token=token), secret=SECRET, operator_token=None, wanted=LINK, now=NOW)
        assert verdict is Refusal.TAMPERED


def test_the_signature_is_hmac_sha256_over_scope_and_expiry() -> None:
    import hashlib
    import hmac

    assert signature(SECRET, LINK, 1_800_000_000) == hmac.new(SECRET, b"T1-C1\n1800000000", hashlib.sha256).hexdigest()
    assert GOOD.expires == str(EXPIRES)
