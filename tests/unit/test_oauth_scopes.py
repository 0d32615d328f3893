"""The OAuth install asks Slack for exactly the bot scopes manifest.yml declares."""

from __future__ import annotations

from pathlib import Path

import yaml

from bridge.entrypoints.slack_oauth import BOT_SCOPES, authorize_url

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


def test_the_install_asks_for_the_manifests_bot_scopes() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert sorted(BOT_SCOPES) == sorted(manifest["oauth_config"]["scopes"]["bot"])
    assert len(set(BOT_SCOPES)) == len(BOT_SCOPES)


def test_the_consent_page_lives_beside_the_web_api() -> None:
    assert authorize_url("https://slack.com/api/") == "https://slack.com/oauth/v2/authorize"
    assert authorize_url("http://127.0.0.1:5555/api") == "http://127.0.0.1:5555/oauth/v2/authorize"
