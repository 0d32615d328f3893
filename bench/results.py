"""One measured figure as the runner prints it, and the percentile arithmetic every bench shares."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

# How big a run is: `full` for the published figures, `quick` for a look, `smoke` only to check a bench still runs.
Profile = Literal["full", "quick", "smoke"]
PROFILES: tuple[Profile, ...] = ("full", "quick", "smoke")


@dataclass(frozen=True)
class Result:
    """A metric of one bench beside its floor (the same metric measured for the floor in the same run, or None).

    `met` is None when the figure has no target, or when the run was too small to judge it (smoke).
    """

    bench: str
    metric: str
    value: float | None
    unit: str
    floor: float | None
    target: str
    met: bool | None
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        body = {
            "bench": self.bench,
            "metric": self.metric,
            "value": _rounded(self.value),
            "unit": self.unit,
            "floor": _rounded(self.floor),
            "target": self.target,
            "met": self.met,
            "params": self.params,
        }
        return json.dumps(body, ensure_ascii=False, separators=(", ", ": "))


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile (p50 of [1, 2, 3, 4] is 2): always one of the measured values."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _rounded(value: float | None) -> float | None:
    if value is None or isinstance(value, int):
        return value
    return round(value, 4 if abs(value) < 10 else 1)


def judge(judged: bool, value: float | None, meets: Callable[[float], bool]) -> bool | None:
    """Whether `value` meets its target; None when there is no value or the run is not one to judge by."""
    if not judged or value is None:
        return None
    return meets(value)
