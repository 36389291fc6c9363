"""Which notifications a rule routes to its channel.

A :class:`Rule` selects by kind (the empty set is every kind), by minimum severity, and by
resource scope: a :class:`~seawall.center.security.scope.Scope` of ``host:NAME``,
``registry:HOST``, ``cluster:NAME`` and ``namespace:CLUSTER/NAMESPACE`` selectors, the same
syntax users and tokens are scoped with, matched against the resource's tags
(:meth:`~seawall.center.notify.message.Resource.tags`). The empty scope is everything. So a
team scoped to ``cluster:prod`` can route exactly what it may see. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from seawall.center.notify.message import KINDS, Notification, severity_of
from seawall.center.security.scope import EVERYTHING, Scope
from seawall.model import Severity


@dataclass(frozen=True)
class Rule:
    """Route notifications of ``kinds`` at or above ``min_severity`` within ``scope``."""

    name: str
    kinds: frozenset[str] = frozenset()
    min_severity: Severity = Severity.UNKNOWN
    scope: Scope = EVERYTHING

    def __post_init__(self) -> None:
        unknown = sorted(set(self.kinds) - KINDS)
        if unknown:
            expected = ", ".join(sorted(KINDS))
            raise ValueError(
                f"rule {self.name!r}: unknown kind {', '.join(unknown)} (expected: {expected})"
            )

    @classmethod
    def of(
        cls,
        name: str,
        *,
        kinds: Iterable[str] = (),
        min_severity: Severity | int | str = Severity.UNKNOWN,
        scope: Iterable[str] = (),
    ) -> Rule:
        """A rule from plain values (as stored or typed): severity by name or number, scope
        as selector strings; ValueError naming the problem."""
        return cls(
            name=name,
            kinds=frozenset(kinds),
            min_severity=severity_of(min_severity),
            scope=Scope.of(scope),
        )


def matches(rule: Rule, notification: Notification) -> bool:
    """Whether ``rule`` routes ``notification``."""
    return (
        (not rule.kinds or notification.kind in rule.kinds)
        and notification.severity >= rule.min_severity
        and rule.scope.permits(notification.resource.tags())
    )
