"""Center-wide settings that owners change from the Settings page or the API, stored in the
database so every worker sees the same values."""

from __future__ import annotations

import msgspec
from sqlalchemy.orm import Session

from seawall.center.store.models import Setting
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
