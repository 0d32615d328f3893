"""The code's shape, for issue 21's before/after (not a timed bench): `python -m bench.shape [--longest N]`.

Prints the methods of each protocol in bridge/ports (its own, and with what it extends), the protocols each
service's (and each inbound object's) constructor takes, and the longest functions in bridge/ (end_lineno - lineno,
as Python's ast gives them). Run it on two commits to compare them.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import pkgutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import bridge
import bridge.entrypoints
import bridge.ports
import bridge.services

PACKAGE = Path(bridge.__file__).resolve().parent


def _modules(package: ModuleType) -> Iterator[ModuleType]:
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        yield importlib.import_module(info.name)


def _is_protocol(cls: type) -> bool:
    return cls is not Protocol and bool(getattr(cls, "_is_protocol", False))


def _members(cls: type) -> set[str]:
    """The public methods and properties a protocol class declares itself."""
    return {
        name
        for name, value in vars(cls).items()
        if (not name.startswith("_") or name == "__call__")
        and (inspect.isfunction(value) or isinstance(value, property))
    }


def _protocols(modules: Sequence[ModuleType]) -> dict[str, type]:
    """Every Protocol class defined in these modules, by name."""
    return {
        cls.__name__: cls
        for module in modules
        for cls in vars(module).values()
        if inspect.isclass(cls) and cls.__module__ == module.__name__ and _is_protocol(cls)
    }


def protocol_methods(protocols: dict[str, type]) -> list[tuple[str, str, int, int]]:
    """(module, protocol, its own methods, all its methods with those of the protocols it extends)."""
    rows = []
    for name, cls in protocols.items():
        every = set().union(*(_members(base) for base in cls.__mro__ if _is_protocol(base)))
        rows.append((cls.__module__.removeprefix("bridge."), name, len(_members(cls)), len(every)))
    return sorted(rows)


def constructor_ports(modules: Sequence[ModuleType], protocols: dict[str, type]) -> list[tuple[str, list[str]]]:
    """Each class that takes protocols, and the protocol-typed parameters of its constructor (`name: Protocol`)."""
    rows = []
    for module in modules:
        for cls in vars(module).values():
            if not inspect.isclass(cls) or cls.__module__ != module.__name__ or _is_protocol(cls):
                continue
            init: Any = vars(cls).get("__init__")
            if init is None:
                continue
            taken = [
                f"{parameter.name}: {parameter.annotation}"
                for parameter in inspect.signature(init).parameters.values()
                if any(word in protocols for word in _words(parameter.annotation))
            ]
            if taken:
                rows.append((f"{module.__name__.removeprefix('bridge.')}.{cls.__name__}", taken))
    return sorted(rows)


def _words(annotation: object) -> list[str]:
    """The names in a parameter's annotation (a string: the services use `from __future__ import annotations`)."""
    if not isinstance(annotation, str):
        return []
    return [node.id for node in ast.walk(ast.parse(annotation, mode="eval")) if isinstance(node, ast.Name)]


def longest_functions(limit: int) -> list[tuple[int, str]]:
    """The longest functions and methods of bridge/, as (end_lineno - lineno, where)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
                where = f"{path.relative_to(PACKAGE.parent).as_posix()}:{node.lineno} {node.name}"
                found.append((node.end_lineno - node.lineno, where))
    return sorted(found, key=lambda row: (-row[0], row[1]))[:limit]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.shape", description=__doc__.splitlines()[0])
    parser.add_argument("--longest", type=int, default=10, help="how many of the longest functions to list")
    args = parser.parse_args(argv)
    ports = list(_modules(bridge.ports))
    services = list(_modules(bridge.services))
    protocols = _protocols(ports) | _protocols(services)
    print("protocol methods (own / with what it extends)")
    for module, name, own, every in protocol_methods(_protocols(ports)):
        print(f"  {module}.{name}: {own} / {every}")
    print("\nprotocols of bridge/services/ (outside ports)")
    for module, name, own, every in protocol_methods(_protocols(services)):
        print(f"  {module}.{name}: {own} / {every}")
    print("\nservice constructors: the protocols they take")
    for service, taken in constructor_ports(services, protocols):
        print(f"  {service} ({len(taken)}): {', '.join(taken)}")
    print("\ninbound objects (bridge/entrypoints/): the protocols they take")
    for inbound, taken in constructor_ports(list(_modules(bridge.entrypoints)), protocols):
        print(f"  {inbound} ({len(taken)}): {', '.join(taken)}")
    print(f"\nlongest functions in bridge/ (end_lineno - lineno), the {args.longest} first")
    for length, where in longest_functions(args.longest):
        print(f"  {length:4d}  {where}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
