"""Exceptions: findings accepted as a risk, with a reason, an author, a scope and an expiry.

An exception survives rescans: ingest applies the active ones to every new result (see
:class:`seawall.center.tracking.ExceptionMatcher`), and creating, lifting or expiring one
updates the findings already stored, then the counts, health and recommendations of the
assets they are on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import String, cast, func, or_, select, update
from sqlalchemy.orm import Session

from seawall.center import assets as asset_store
from seawall.center.api.schemas import ExceptionCreate, ExceptionItem
from seawall.center.posture import evaluate
from seawall.center.queries.common import NotFound
from seawall.center.settings import load as load_settings
from seawall.center.store.models import (
    Asset,
    ExceptionRow,
    FindingRow,
    ImageDigest,
    ImageReference,
    RuleRow,
)


def create_exception(
    session: Session, body: ExceptionCreate, author: str, now: dt.datetime
) -> ExceptionRow:
    row = ExceptionRow(
        rule=body.rule.strip(),
        scope_type=body.scope_type,
        scope_value=body.scope_value.strip(),
        reason=body.reason,
        author=author,
        created_at=now,
        expires_at=body.expires_at.astimezone(dt.UTC) if body.expires_at else None,
        active=True,
    )
    session.add(row)
    session.flush()
    return row


def _rule_ids(session: Session, name: str) -> list[str]:
    """Rule ids ``name`` stands for: itself, itself in any namespace, or rules that list it
    among their aliases."""
    candidates = session.execute(
        select(RuleRow.id, RuleRow.data).where(
            or_(
                RuleRow.id == name,
                RuleRow.id.endswith("/" + name, autoescape=True),
                cast(RuleRow.data, String).contains(f'"{name}"', autoescape=True),
            )
        )
    )
    return [
        rule_id
        for rule_id, data in candidates
        if rule_id == name or rule_id.endswith("/" + name) or name in (data.get("aliases") or ())
    ]


def _sources(session: Session, exception: ExceptionRow) -> list[int] | None:
    """The image ids an exception's scope covers (None: every asset)."""
    if exception.scope_type == "all":
        return None
    if exception.scope_type == "image":
        digest = session.get(ImageDigest, exception.scope_value)
        return [digest.image_id] if digest else []
    registry, _, repository = exception.scope_value.partition("/")
    return list(
        session.scalars(
            select(ImageReference.image_id).where(
                ImageReference.registry_host == registry,
                ImageReference.repository == repository,
            )
        )
    )


def apply_exception(session: Session, exception: ExceptionRow, now: dt.datetime) -> int:
    """Suppress the failing findings ``exception`` covers; how many it now covers."""
    rules = _rule_ids(session, exception.rule)
    sources = _sources(session, exception)
    if not rules or sources == []:
        return 0
    condition = [
        FindingRow.rule_id.in_(rules),
        FindingRow.failing.is_(True),
        FindingRow.exception_id.is_(None),
    ]
    if sources is not None:
        condition.append(FindingRow.source_id.in_(sources))
    touched = set(session.scalars(select(FindingRow.asset_id).where(*condition).distinct()))
    touched |= set(session.scalars(select(FindingRow.source_id).where(*condition).distinct()))
    result = session.execute(
        update(FindingRow).where(*condition).values(exception_id=exception.id, is_open=False)
    )
    settle(session, touched, now)
    return int(getattr(result, "rowcount", 0) or 0)


def lift(session: Session, exception_id: int, now: dt.datetime) -> int:
    """Deactivate an exception; the findings it covered are open again (unless another
    exception covers them). How many findings it covered."""
    exception = session.get(ExceptionRow, exception_id)
    if exception is None or not exception.active:
        raise NotFound(f"no active exception {exception_id}")
    exception.active = False
    return _release(session, [exception_id], now)


def _release(session: Session, exception_ids: Collection[int], now: dt.datetime) -> int:
    condition = FindingRow.exception_id.in_(list(exception_ids))
    touched = set(session.scalars(select(FindingRow.asset_id).where(condition).distinct()))
    touched |= set(session.scalars(select(FindingRow.source_id).where(condition).distinct()))
    result = session.execute(
        update(FindingRow).where(condition).values(exception_id=None, is_open=FindingRow.failing)
    )
    for other in session.scalars(select(ExceptionRow).where(ExceptionRow.active.is_(True))):
        apply_exception(session, other, now)
    settle(session, touched, now)
    return int(getattr(result, "rowcount", 0) or 0)


def expire(session: Session, now: dt.datetime) -> int:
    """Deactivate the exceptions whose expiry has passed (the daily job); how many."""
    expired = list(
        session.scalars(
            select(ExceptionRow.id).where(
                ExceptionRow.active.is_(True), ExceptionRow.expires_at <= now
            )
        )
    )
    if expired:
        session.execute(
            update(ExceptionRow).where(ExceptionRow.id.in_(expired)).values(active=False)
        )
        _release(session, expired, now)
    return len(expired)


def settle(session: Session, asset_ids: Collection[int], now: dt.datetime) -> None:
    """Counts, health and recommendations of assets whose findings changed state."""
    if not asset_ids:
        return
    threshold = load_settings(session).threshold
    evaluate.refresh_counts(session, asset_ids)
    evaluate.refresh_health(session, asset_ids, threshold)
    images = set(
        session.scalars(
            select(Asset.id).where(Asset.id.in_(list(asset_ids)), Asset.type == "image")
        )
    )
    evaluate.evaluate(session, set(asset_ids) | asset_store.runners_of(session, images), now)


def list_exceptions(session: Session) -> list[ExceptionItem]:
    covered = dict(
        session.execute(
            select(FindingRow.exception_id, func.count())
            .where(FindingRow.exception_id.is_not(None))
            .group_by(FindingRow.exception_id)
        ).all()
    )
    return [
        ExceptionItem(
            id=row.id,
            rule=row.rule,
            scope_type=row.scope_type,  # type: ignore[arg-type]
            scope_value=row.scope_value,
            reason=row.reason,
            author=row.author,
            created_at=row.created_at,
            expires_at=row.expires_at,
            active=row.active,
            findings=int(covered.get(row.id, 0)),
        )
        for row in session.scalars(select(ExceptionRow).order_by(ExceptionRow.id.desc()))
    ]
