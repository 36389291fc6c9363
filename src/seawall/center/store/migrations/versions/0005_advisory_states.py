"""re-matching only what an advisory update touched: footprints and database states

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import seawall.center.store.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "advisory_states",
        sa.Column("built_at", sa.String(length=40), nullable=False),
        sa.Column(
            "created_at", seawall.center.store.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("built_at"),
    )
    with op.batch_alter_table("inventories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("footprint", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inventories", schema=None) as batch_op:
        batch_op.drop_column("footprint")
    op.drop_table("advisory_states")
