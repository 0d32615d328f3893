"""Renders records as Asana JSON: compact by default in lists, full for one resource, opt_fields projection."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bridge.sandbox.asana.shapes import Ref, Shapes
from bridge.sandbox.asana.store import Store

__all__ = ["Ref", "Renderer", "parse_opt_fields"]


# Fields left out of a full record unless asked for with opt_fields (Asana's "opt-in" properties).
_OPT_IN: dict[str, frozenset[str]] = {
    "task": frozenset({"html_notes"}),
    "story": frozenset({"html_text"}),
    "project": frozenset({"html_notes", "custom_field_settings"}),
    "webhook": frozenset({"delivery_retry_count", "next_attempt_after", "failure_deletion_timestamp", "filters"}),
}
_COMPACT: dict[str, tuple[str, ...]] = {
    "task": ("gid", "name", "resource_type", "resource_subtype"),
    "user": ("gid", "name", "resource_type"),
    "project": ("gid", "name", "resource_type"),
    "team": ("gid", "name", "resource_type"),
    "section": ("gid", "name", "resource_type"),
    "workspace": ("gid", "name", "resource_type"),
    "story": ("gid", "created_at", "created_by", "resource_subtype", "resource_type", "text"),
    "enum_option": ("gid", "color", "enabled", "name", "resource_type"),
    "custom_field": ("gid", "enum_options", "name", "resource_subtype", "resource_type", "type", "is_formula_field"),
    "custom_field_setting": ("gid", "custom_field", "is_important", "parent", "project", "resource_type"),
    "ooo_entry": ("gid", "resource_type", "start_date", "end_date", "user", "created_by"),
    "webhook": ("gid", "active", "resource", "resource_type", "target"),
}


def parse_opt_fields(text: str | None) -> dict[str, Any] | None:
    """Parse opt_fields into a tree: a.b,a.c,d -> {"a": {"b": {}, "c": {}}, "d": {}}; None when absent."""
    if text is None:
        return None
    tree: dict[str, Any] = {}
    for path in text.split(","):
        node = tree
        for part in path.strip().split("."):
            if part:
                node = node.setdefault(part, {})
    return tree


class Renderer:
    """Turns records into JSON; nested resources are Refs resolved lazily, so opt_fields can reach into them."""

    def __init__(self, store: Store, failure_window: timedelta = timedelta(hours=24)) -> None:
        self.store = store
        self.shapes = Shapes(store, failure_window)

    def full(self, kind: str, gid: str) -> dict[str, Any]:
        return self.shapes.full(kind, gid)

    # ---------------------------------------------------------------- entry points

    def one(self, kind: str, gid: str, opt_fields: str | None) -> dict[str, Any]:
        tree = parse_opt_fields(opt_fields)
        if tree is None:
            full = self.full(kind, gid)
            hidden = _OPT_IN.get(kind, frozenset())
            return {k: self._plain(v) for k, v in full.items() if k not in hidden}
        selected: dict[str, Any] = self._select(Ref(kind, gid), tree)
        return selected

    def many(self, kind: str, gids: list[str], opt_fields: str | None) -> list[dict[str, Any]]:
        tree = parse_opt_fields(opt_fields)
        if tree is None:
            return [self.compact(Ref(kind, g)) for g in gids]
        return [self._select(Ref(kind, g), tree) for g in gids]

    def compact(self, ref: Ref) -> dict[str, Any]:
        full = self.full(ref.kind, ref.gid)
        keys = _COMPACT.get(ref.kind, ("gid", "resource_type"))
        return {k: self._plain(full[k]) for k in keys if k in full}

    # ---------------------------------------------------------------- projection

    def _plain(self, value: Any) -> Any:
        if isinstance(value, Ref):
            return self.compact(value)
        if isinstance(value, list):
            return [self._plain(v) for v in value]
        if isinstance(value, dict):
            return {k: self._plain(v) for k, v in value.items()}
        return value

    def _select(self, value: Any, tree: dict[str, Any]) -> Any:
        if isinstance(value, Ref):
            if not tree:
                return self.compact(value)
            full = self.full(value.kind, value.gid)
            out: dict[str, Any] = {"gid": value.gid}
            for key, sub in tree.items():
                if key in full and key != "gid":
                    out[key] = self._select(full[key], sub)
            return out
        if isinstance(value, list):
            return [self._select(v, tree) for v in value]
        if isinstance(value, dict):
            if not tree:
                return self._plain(value)
            picked = {k: self._select(value[k], sub) for k, sub in tree.items() if k in value}
            if "gid" in value:
                picked["gid"] = value["gid"]
            return picked
        return value
