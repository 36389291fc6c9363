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
from seawall.center import audit
from seawall.center.api.schemas import ExceptionCreate, ExceptionItem
from seawall.center.posture import evaluate
from seawall.center.queries.common import NotFound
from seawall.center.scoping import within
from seawall.center.security.roles import Principal
from seawall.center.security.scope import OutsideScope
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


def visible_to(session: Session, by: Principal, scope_type: str, value: str) -> bool:
    """Whether a scoped caller sees what an exception covers: one image it sees, or a
    repository of which it sees an image. Exceptions for everything are center-wide."""
    if by.scope.everything:
        return True
    if scope_type == "image":
        found = session.get(ImageDigest, value)
        image_id = found.image_id if found else None
    elif scope_type == "repository":
        registry, _, repository = value.partition("/")
        image_id = session.scalar(
            select(ImageReference.image_id).where(
                ImageReference.registry_host == registry,
                ImageReference.repository == repository,
                within(by.scope, ImageReference.image_id),
            )
        )
    else:
        return False
    return image_id is not None and by.scope.permits(asset_store.tags_of(session, image_id))


def list_exceptions(session: Session, by: Principal) -> list[ExceptionItem]:
    """The exceptions ``by`` may see: those for everything, and those of what it sees."""
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
        if row.scope_type == "all" or visible_to(session, by, row.scope_type, row.scope_value)
    ]


class ExceptionRefused(ValueError):
    """An exception that cannot be made: expired already, or a scope without its value."""


def add_exception(
    session: Session, by: Principal, body: ExceptionCreate, now: dt.datetime
) -> ExceptionItem:
    """Accept the findings of a rule as a risk (API and dashboard): checked, stored, applied
    to the findings already there, and recorded in the audit trail."""
    if body.expires_at is not None and body.expires_at.astimezone(dt.UTC) <= now:
        raise ExceptionRefused("expires_at is in the past")
    if body.scope_type != "all" and not body.scope_value.strip():
        raise ExceptionRefused("scope_value names the repository or image")
    if not visible_to(session, by, body.scope_type, body.scope_value.strip()):
        raise OutsideScope(
            "an exception must cover only what your scope shows (an image or a repository "
            "of yours; everything needs an unscoped caller)"
        )
    row = create_exception(session, body, by.name, now)
    covered = apply_exception(session, row, now)
    audit.record(
        session,
        by,
        "exception.create",
        f"exception {row.id}",
        rule=row.rule,
        scope=f"{row.scope_type}:{row.scope_value}",
        findings=covered,
    )
    return ExceptionItem.model_validate(
        {
            **{c: getattr(row, c) for c in ExceptionItem.model_fields if c != "findings"},
            "findings": covered,
        }
    )


def remove_exception(session: Session, by: Principal, exception_id: int, now: dt.datetime) -> int:
    """Lift an exception (the findings it covered count again), recorded in the audit trail;
    how many findings it covered."""
    row = session.get(ExceptionRow, exception_id)
    if row is None or not (
        by.scope.everything or visible_to(session, by, row.scope_type, row.scope_value)
    ):
        raise NotFound(f"no active exception {exception_id}")
    reopened = lift(session, exception_id, now)
    audit.record(session, by, "exception.delete", f"exception {exception_id}", findings=reopened)
    return reopened
