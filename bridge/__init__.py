"""Slack ⇄ Asana bridge. Importing the package does nothing but name its version."""

__version__ = "0.1.0"
