"""Shared fixtures: emulators, databases, and a bridge built against them."""

from __future__ import annotations

pytest_plugins = ["tests.fixtures_db", "tests.fixtures_slack", "tests.fixtures_asana", "tests.fixtures_bridge"]
