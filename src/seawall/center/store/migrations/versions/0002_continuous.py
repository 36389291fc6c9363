"""continuous protection: registries, their images, jobs

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import seawall.center.store.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column(
            "not_before", seawall.center.store.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "lease_until", seawall.center.store.models.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("worker", sa.String(length=200), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column(
            "result",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column(
            "created_at", seawall.center.store.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "started_at", seawall.center.store.models.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "finished_at", seawall.center.store.models.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "dispatched_at", seawall.center.store.models.UTCDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_created", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_jobs_due", ["state", "priority", "not_before", "id"], unique=False
        )
        batch_op.create_index(
            "ux_jobs_active_key",
            ["key"],
            unique=True,
            sqlite_where=sa.text("state IN ('queued', 'running')"),
            postgresql_where=sa.text("state IN ('queued', 'running')"),
        )

    op.create_table(
        "registries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.Column("password", sa.LargeBinary(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("insecure", sa.Boolean(), nullable=False),
        sa.Column("rescan_pushed_days", sa.Integer(), nullable=False),
        sa.Column("rescan_pulled_days", sa.Integer(), nullable=False),
        sa.Column("rescan_running", sa.Boolean(), nullable=False),
        sa.Column("catalog_minutes", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", seawall.center.store.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column(
            "last_event_at", seawall.center.store.models.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "last_catalog_at", seawall.center.store.models.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "registry_images",
        sa.Column("registry_id", sa.Integer(), nullable=False),
        sa.Column("repository", sa.String(length=300), nullable=False),
        sa.Column("digest", sa.String(length=80), nullable=False),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("media_type", sa.String(length=120), nullable=False),
        sa.Column(
            "pushed_at", seawall.center.store.models.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "pulled_at", seawall.center.store.models.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "deleted_at", seawall.center.store.models.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "scanned_at", seawall.center.store.models.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("scanned_with", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["registry_id"], ["registries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("registry_id", "repository", "digest"),
    )
    with op.batch_alter_table("registry_images", schema=None) as batch_op:
        batch_op.create_index(
            "ix_registry_images_pulled", ["registry_id", "pulled_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("registry_images", schema=None) as batch_op:
        batch_op.drop_index("ix_registry_images_pulled")

    op.drop_table("registry_images")
    op.drop_table("registries")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_jobs_active_key",
            sqlite_where=sa.text("state IN ('queued', 'running')"),
            postgresql_where=sa.text("state IN ('queued', 'running')"),
        )
        batch_op.drop_index("ix_jobs_due")
        batch_op.drop_index("ix_jobs_created")

    op.drop_table("jobs")
