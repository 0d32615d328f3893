"""Inbox de-duplication keys start with the event's created_at (`<created_at>~<digest>`), as new keys do.

Random keys put each new event on another page of the unique index, which was most of the cost of committing
events; keys led by time grow at the index's end. Stored keys get the same prefix, so that a resend of an event
stored before this revision still meets its key. The rule matches `bridge.domain.events.dedupe_key`: the
payload's created_at if it is a string, cut to 40 characters, else nothing (tested against it on both databases).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Old keys hold no "~" (hex digests), so a rewritten key never equals one not yet rewritten: the unique
# constraint holds row by row, and running this again changes nothing.
SQLITE = """
UPDATE inbox SET dedupe_key =
    CASE WHEN json_type(payload, '$.created_at') = 'text'
         THEN substr(json_extract(payload, '$.created_at'), 1, 40) ELSE '' END || '~' || dedupe_key
WHERE instr(dedupe_key, '~') = 0
"""
POSTGRESQL = """
UPDATE inbox SET dedupe_key =
    CASE WHEN jsonb_typeof(payload -> 'created_at') = 'string'
         THEN substr(payload ->> 'created_at', 1, 40) ELSE '' END || '~' || dedupe_key
WHERE strpos(dedupe_key, '~') = 0
"""


def upgrade() -> None:
    op.execute(POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE)


def downgrade() -> None:
    # The digest is the key's last 64 characters (a created_at may itself hold a "~").
    op.execute(
        "UPDATE inbox SET dedupe_key = right(dedupe_key, 64) WHERE strpos(dedupe_key, '~') > 0"
        if op.get_bind().dialect.name == "postgresql"
        else "UPDATE inbox SET dedupe_key = substr(dedupe_key, -64) WHERE instr(dedupe_key, '~') > 0"
    )
