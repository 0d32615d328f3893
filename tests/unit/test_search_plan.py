"""How a question is searched over many tasks (adapters/store/rarity.plan): which words rank, which rows are ranked.
Table-driven, on counts given by hand."""

from __future__ import annotations

import pytest

from bridge.adapters.store.rarity import Plan, plan

COUNTS = {"toner": 40.0, "portal": 300.0, "driver": 900.0, "jam": 1500.0, "tray": 2500.0, "printer": 40_000.0}


@pytest.mark.parametrize(
    ("words", "total", "scoped", "budget", "twins", "expected"),
    [
        pytest.param(
            ("printer", "toner"),
            500,
            500,
            100.0,
            {},
            Plan(("printer", "toner"), (("printer",), ("toner",))),
            id="a small team: every word ranked on every row with one",
        ),
        pytest.param(
            ("printer", "toner", "portal"),
            100_000,
            100_000,
            1000.0,
            {},
            Plan(("toner", "portal"), (("toner",), ("portal",)), (), scope_first=False),
            id="a word most tasks have is not ranked; the rest fit the budget on their own",
        ),
        pytest.param(
            ("toner", "jam", "tray", "driver"),
            100_000,
            100_000,
            500.0,
            {},
            Plan(("toner", "jam", "tray", "driver"), (("toner",), ("driver", "jam")), ("tray",), scope_first=False),
            id="past the budget, pairs of the next rarest; the others still rank",
        ),
        pytest.param(
            ("jam", "tray"),
            100_000,
            100_000,
            10.0,
            {},
            Plan(("jam", "tray"), (("jam", "tray"),), (), scope_first=False),
            id="nothing fits: the rows with the rarest words together",
        ),
        pytest.param(
            ("toner", "jam", "tray", "driver"),
            100_000,
            1_000,
            100.0,
            {},
            Plan(("toner", "jam", "tray", "driver"), (("toner",), ("driver",), ("jam",), ("tray",))),
            id="a small scope is found first: its rows with any ranked word are few",
        ),
        pytest.param(
            ("toner", "portal", "jam"),
            100_000,
            100_000,
            300.0,
            {"portal": "toner"},
            Plan(("toner", "portal", "jam"), (("toner", "portal"),), ("jam",), scope_first=False),
            id="a word the engine reads as an earlier one joins its group (the same rows)",
        ),
    ],
)
def test_the_plan(
    words: tuple[str, ...], total: int, scoped: int, budget: float, twins: dict[str, str], expected: Plan
) -> None:
    assert plan(words, COUNTS, total=total, scoped=scoped, budget=budget, twins=twins) == expected
