"""The initial schema: reference data, cases, the event log, applied commands, operators.

Revision ID: 0001
Revises:
Create Date: 2025-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported from hub.schema: a migration is frozen in time.
IDENT = sa.String(64)
TAG = sa.String(32)
LABEL = sa.String(200)
DIGEST = sa.String(128)
TIMESTAMP = sa.DateTime(timezone=True)
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "areas",
        sa.Column("code", IDENT, nullable=False),
        sa.Column("name", LABEL, nullable=False),
        sa.Column("kind", TAG, nullable=False),
        sa.Column("parent", IDENT, nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_areas"),
    )
    op.create_table(
        "units",
        sa.Column("id", IDENT, nullable=False),
        sa.Column("name", LABEL, nullable=False),
        sa.Column("kind", TAG, nullable=False),
        sa.Column("parent", IDENT, nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_units"),
    )
    op.create_table(
        "staff",
        sa.Column("id", IDENT, nullable=False),
        sa.Column("name", LABEL, nullable=False),
        sa.Column("unit", IDENT, nullable=False),
        sa.Column("shift", TAG, nullable=False),
        sa.Column("duty", TAG, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_staff"),
    )
    op.create_table(
        "cases",
        sa.Column("id", IDENT, nullable=False),
        sa.Column("status", TAG, nullable=False),
        sa.Column("urgency", TAG, nullable=False),
        sa.Column("category", IDENT, nullable=False),
        sa.Column("kind", TAG, nullable=False),
        sa.Column("source", TAG, nullable=False),
        sa.Column("grid", IDENT, nullable=True),
        sa.Column("level", TAG, nullable=False),
        sa.Column("owner_unit", IDENT, nullable=True),
        sa.Column("owner_staff", IDENT, nullable=True),
        sa.Column("reported_at", TIMESTAMP, nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
    )
    op.create_index("ix_cases_status", "cases", ["status"])
    op.create_index("ix_cases_owner_unit", "cases", ["owner_unit"])
    op.create_table(
        "events",
        sa.Column("seq", SEQ, autoincrement=False, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", IDENT, nullable=False),
        sa.Column("type", TAG, nullable=False),
        sa.Column("case", IDENT, nullable=True),
        sa.Column("staff", IDENT, nullable=True),
        sa.Column("command", IDENT, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changes", JSON, nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_events"),
    )
    op.create_index("ix_events_case", "events", ["case"])
    op.create_table(
        "commands",
        sa.Column("id", IDENT, nullable=False),
        sa.Column("digest", DIGEST, nullable=False),
        sa.Column("actor", IDENT, nullable=False),
        sa.Column("seq", SEQ, nullable=False),
        sa.Column("case", IDENT, nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_commands"),
    )
    op.create_table(
        "operators",
        sa.Column("name", IDENT, nullable=False),
        sa.Column("token_hash", DIGEST, nullable=False),
        sa.Column("role", TAG, nullable=False),
        sa.Column("unit", IDENT, nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_operators"),
        sa.UniqueConstraint("token_hash", name="uq_operators_token_hash"),
    )


def downgrade() -> None:
    op.drop_table("operators")
    op.drop_table("commands")
    op.drop_index("ix_events_case", table_name="events")
    op.drop_table("events")
    op.drop_index("ix_cases_owner_unit", table_name="cases")
    op.drop_index("ix_cases_status", table_name="cases")
    op.drop_table("cases")
    op.drop_table("staff")
    op.drop_table("units")
    op.drop_table("areas")
