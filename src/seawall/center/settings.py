"""Center-wide settings that owners change from the Settings page or the API, stored in the
database so every worker sees the same values."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from seawall.center import audit
from seawall.center.security.roles import Principal
from seawall.center.security.scope import require_everything
from seawall.center.store.models import Asset, Setting
from seawall.model import Severity

KEY = "center"


class CenterSettings(msgspec.Struct, frozen=True, kw_only=True):
    # An image (or a host check, a workload policy) is healthy with nothing open at or above
    # this severity.
    health_threshold: str = "high"

    @property
    def threshold(self) -> Severity:
        return Severity.parse(self.health_threshold)


def load(session: Session) -> CenterSettings:
    row = session.get(Setting, KEY)
    if row is None:
        return CenterSettings()
    return msgspec.convert(row.value, CenterSettings)


def save(session: Session, settings: CenterSettings) -> None:
    Severity.parse(settings.health_threshold)  # ValueError for a bad name
    row = session.get(Setting, KEY)
    value = msgspec.to_builtins(settings)
    if row is None:
        session.add(Setting(key=KEY, value=value))
    else:
        row.value = value


def change_settings(
    session: Session, by: Principal, settings: CenterSettings, now: dt.datetime
) -> None:
    """Save ``settings``; a new health threshold re-settles every asset's health, the
    recommendations and so the score at once. Recorded in the audit trail."""
    from seawall.center.exceptions import settle  # exceptions reads the settings

    require_everything(by.scope)
    before = load(session)
    save(session, settings)
    if before.health_threshold != settings.health_threshold:
        every = set(session.scalars(select(Asset.id).where(Asset.gone.is_(False))))
        settle(session, every, now)
    audit.record(
        session, by, "settings.change", "center", health_threshold=settings.health_threshold
    )
