"""Patrol tracks, and the cases' report time indexed for the monthly assessment.

``track_points`` holds grid workers' thinned positions (``position`` frames), read per
person and day (``tracks`` with points) and pruned by age (``assessment.track_retention_days``);
``patrol_days`` one row per worker and day with the patrol counted as the points came in.
``cases.reported_at`` is indexed so ``cases_window`` reads a month of reports, not the table.

Revision ID: 0004
Revises: 0002 (re-chained onto 0003 when the rotas migration is merged first)
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported from hub.schema: a migration is frozen in time.
IDENT = sa.String(64)
TIMESTAMP = sa.DateTime(timezone=True)
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "track_points",
        sa.Column("id", SEQ, autoincrement=True, nullable=False),
        sa.Column("staff", IDENT, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_track_points"),
    )
    op.create_index("ix_track_points_staff_at", "track_points", ["staff", "at"])
    op.create_index("ix_track_points_at", "track_points", ["at"])
    op.create_table(
        "patrol_days",
        sa.Column("staff", IDENT, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("patrol_minutes", sa.Float(), nullable=False),
        sa.Column("inside_minutes", sa.Float(), nullable=False),
        sa.Column("last_at", TIMESTAMP, nullable=False),
        sa.Column("last_lon", sa.Float(), nullable=False),
        sa.Column("last_lat", sa.Float(), nullable=False),
        sa.Column("last_inside", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("staff", "day", name="pk_patrol_days"),
    )
    op.create_index("ix_patrol_days_day", "patrol_days", ["day"])
    op.create_index("ix_cases_reported_at", "cases", ["reported_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_reported_at", table_name="cases")
    op.drop_index("ix_patrol_days_day", table_name="patrol_days")
    op.drop_table("patrol_days")
    op.drop_index("ix_track_points_at", table_name="track_points")
    op.drop_index("ix_track_points_staff_at", table_name="track_points")
    op.drop_table("track_points")
