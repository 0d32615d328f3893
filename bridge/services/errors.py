"""Errors a use case raises for the person who asked; entrypoints show them as ephemeral messages."""

from __future__ import annotations


class UserError(Exception):
    """Something the person can fix; the message says how. Nothing was changed."""
