"""Index the commands table by seq: the hub's restart reads the newest command ids.

At start the hub holds the acks of the most recent commands in memory (``Store.
recent_commands``); without this index that read sorts the whole table, which only grows
(200,000 rows in a hall's eighth month).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_commands_seq", "commands", ["seq"])


def downgrade() -> None:
    op.drop_index("ix_commands_seq", table_name="commands")
