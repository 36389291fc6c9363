"""The audit trail: every change a user makes, who made it and when."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from seawall.center.security.roles import Principal
from seawall.center.store.models import AuditEntry


def record(
    session: Session, who: Principal | str, action: str, target: str = "", **detail: Any
) -> None:
    """Note ``action`` on ``target``; secrets never go in ``detail``."""
    session.add(
        AuditEntry(
            at=dt.datetime.now(dt.UTC),
            actor=(who if isinstance(who, str) else who.name)[:120],
            action=action[:60],
            target=target[:300],
            detail=detail,
        )
    )
