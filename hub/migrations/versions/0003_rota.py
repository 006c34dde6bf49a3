"""The rota table: the hall's shifts and standby rota as one JSON document.

The rota (``dispatch.rota.Rota``: the units' standby cycles, the duty commanders' turns and
the commander's date-bound changes) is small and read whole at start; each change is also an
event in the log (``rota_changed``), written in the same transaction as this row.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rota",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rota"),
    )


def downgrade() -> None:
    op.drop_table("rota")
