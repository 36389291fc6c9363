"""Alert triage: acknowledge an alert, dismiss it with a reason, or set it back to new.
The API and the dashboard both change an alert's state here, so the rule (a dismissal needs
a reason) and the audit trail entry are the same whichever was used."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from seawall.center import audit
from seawall.center.security.roles import Principal
from seawall.center.store.models import AlertRow

STATUSES = ("new", "acknowledged", "dismissed")


class TriageError(ValueError):
    """An unknown state, or a dismissal without a reason."""


def change_status(
    session: Session, by: Principal, row: AlertRow, status: str, reason: str, now: dt.datetime
) -> None:
    """Set ``row``'s state, noting who did it and when (the caller commits)."""
    reason = reason.strip()
    if status not in STATUSES:
        raise TriageError(f"unknown alert state {status!r} ({', '.join(STATUSES)})")
    if status == "dismissed" and not reason:
        raise TriageError("dismissing needs a reason")
    before = row.status
    row.status, row.status_reason = status, reason
    row.status_by, row.status_at = by.name, now
    audit.record(session, by, f"alert.{status}", f"alert {row.id}", before=before, reason=reason)
