"""What a running center holds: its configuration, database engine and session factory, and
the background worker. One per application; nothing here is a module global, so several
centers (tests, workers) live side by side in one process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from seawall.center.config import CenterConfig

if TYPE_CHECKING:
    from seawall.center.jobs import Worker


@dataclass
class Center:
    config: CenterConfig
    engine: Engine
    sessions: sessionmaker[Session]
    worker: Worker | None = None
