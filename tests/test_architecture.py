"""Imports point inward (STYLE.md): the domain is pure, services never reach for concrete adapters or SDKs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "bridge"
IO_LIBRARIES = ("slack_sdk", "slack_bolt", "asana", "aiohttp", "sqlalchemy", "asyncio", "alembic", "prometheus_client")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("domain"), ids=lambda p: p.name)
def test_domain_imports_only_the_standard_library_and_itself(path: Path) -> None:
    for name in _imports(path):
        top = name.split(".")[0]
        assert top not in IO_LIBRARIES, f"{path.name} imports {name}"
        if top == "bridge":
            assert name.startswith("bridge.domain"), f"{path.name} imports {name}"


@pytest.mark.parametrize("path", _modules("services"), ids=lambda p: p.name)
def test_services_use_ports_not_sdks_or_concrete_adapters(path: Path) -> None:
    for name in _imports(path):
        assert name.split(".")[0] not in ("slack_sdk", "slack_bolt", "asana", "aiohttp", "sqlalchemy"), name
        # Words (blocks) and the gateways' error types are shared; the gateways themselves are not.
        if name.startswith("bridge.adapters"):
            assert name in ("bridge.adapters.blocks", "bridge.adapters.errors", "bridge.adapters"), name
        assert not name.startswith(("bridge.entrypoints", "bridge.bootstrap", "bridge.wiring", "bridge.sandbox")), name


def test_importing_the_package_builds_nothing() -> None:
    source = (PACKAGE / "__init__.py").read_text()
    assert "import" not in source.replace("from __future__ import annotations", "")
