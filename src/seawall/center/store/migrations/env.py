"""Alembic environment: migrations run on the engine the center hands over (see
``seawall.center.store.database.migrate``), or on ``sqlalchemy.url`` for the alembic CLI."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from seawall.center.store.models import Base

config = context.config
engine = config.attributes.get("engine") or create_engine(
    str(config.get_main_option("sqlalchemy.url"))
)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
