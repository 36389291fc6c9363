"""admission decisions

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import seawall.center.store.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admission_decisions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=100), nullable=False),
        sa.Column("time", seawall.center.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("operation", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("namespace", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("user", sa.String(length=300), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("would_deny", sa.Boolean(), nullable=False),
        sa.Column(
            "violations",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "warnings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "errors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("ms", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["cluster_id"], ["assets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cluster_id", "uid"),
    )
    with op.batch_alter_table("admission_decisions", schema=None) as batch_op:
        batch_op.create_index("ix_admission_time", ["cluster_id", "time"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("admission_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_admission_time")

    op.drop_table("admission_decisions")
