"""When and how a person changes tasks in Asana during the relay bench: the plans of the two scenarios, and the
changes themselves (each kind in turn, always to a new value, so that every change is something to tell)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from bridge.sandbox.asana.actor import Actor
from bridge.sandbox.world import PRIORITIES, SECTIONS, World

# How much longer than the window a task's pause between bursts is at least, so bursts never coalesce.
SETTLE_MARGIN = 0.5


@dataclass(frozen=True)
class Planned:
    """One change: `at` seconds after the scenario starts, to task number `task`, as part of burst `burst`."""

    at: float
    task: int
    burst: int


def spread_plan(*, tasks: int, changes: int, gap: float) -> list[Planned]:
    """Every change its own burst: each task changes every `gap` seconds, the tasks staggered evenly in between."""
    per_task = changes // tasks
    return sorted(
        (
            Planned(at=t * gap / tasks + k * gap, task=t, burst=t * per_task + k)
            for t in range(tasks)
            for k in range(per_task)
        ),
        key=lambda p: p.at,
    )


def burst_plan(*, tasks: int, changes: int, burst: int, window: float, gap: float) -> list[Planned]:
    """`burst` changes a fifth of the window apart, every `gap` seconds per task (at least the window and a margin
    after the burst), the tasks staggered evenly."""
    bursts = changes // tasks // burst
    step = window / 5
    gap = max(gap, window + burst * step + SETTLE_MARGIN)
    return sorted(
        (
            Planned(at=t * gap / tasks + b * gap + c * step, task=t, burst=t * bursts + b)
            for t in range(tasks)
            for b in range(bursts)
            for c in range(burst)
        ),
        key=lambda p: p.at,
    )


class Changes:
    """A person working in Asana: each call makes the next kind of change, always to a new value."""

    KINDS = ("rename", "due", "assign", "comment", "priority", "section", "complete")

    def __init__(self, world: World, actor: Actor) -> None:
        self._world = world
        self._actor = actor
        self._made: Counter[str] = Counter()
        self._people = list(world.asana_people.values())
        self._options = [world.asana.option_gid(world.priority_field, name) for name in PRIORITIES]
        self._sections = [world.asana.section_gid(world.project, name) for name in SECTIONS]

    def make(self, task_gid: str) -> None:
        n = self._made[task_gid]
        self._made[task_gid] += 1
        kind = self.KINDS[n % len(self.KINDS)]
        task = self._world.asana.store.tasks[task_gid]
        if kind == "rename":
            self._actor.rename(task_gid, f"{task.name.split(' #')[0]} #{n}")
        elif kind == "due":
            self._actor.set_due(task_gid, date(2026, 12, 1) + timedelta(days=n))
        elif kind == "assign":
            self._actor.assign(task_gid, _other(self._people, task.assignee))
        elif kind == "comment":
            self._actor.comment(task_gid, f"Progress note {n}")
        elif kind == "priority":
            current = task.custom_values.get(self._world.priority_field)
            self._actor.set_enum(task_gid, self._world.priority_field, _other(self._options, current))
        elif kind == "section":
            section = _other(self._sections, task.section_in(self._world.project))
            self._actor.move_to_section(task_gid, section)
        else:
            self._actor.complete(task_gid, not task.completed)


def _other(choices: list[str], current: str | None) -> str:
    return next(c for c in choices if c != current)
