"""Shared fixtures: emulators, databases, and a bridge built against them.

Unit tests run on fakes (tests/unit/fakes/) and need none of these, whose imports (the emulators, Bolt,
SQLAlchemy, the bridge itself) cost seconds: a run of tests/unit alone leaves them out (issue 21).
"""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = ["tests.fixtures_db", "tests.fixtures_slack", "tests.fixtures_asana", "tests.fixtures_bridge"]
UNIT = Path(__file__).parent / "unit"


def pytest_configure(config: pytest.Config) -> None:
    paths = [Path(str(arg).split("::")[0]).resolve() for arg in config.args]
    if paths and all(path.is_relative_to(UNIT) for path in paths):
        return
    for name in FIXTURES:
        config.pluginmanager.import_plugin(name)
