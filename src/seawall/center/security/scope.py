"""Scopes: the hosts, registries, clusters and namespaces a user or token may see.

A scope is a list of selectors, ``host:NAME``, ``registry:HOST``, ``cluster:NAME`` and
``namespace:CLUSTER/NAMESPACE``; the empty scope is everything. Every asset carries the tags
of where it is (an image: the registries it was pushed to, the hosts and namespaces it runs
in), and a scoped principal sees an asset when one of its tags is a selector of the scope.
The same filter applies to lists, counts, the score and exports, so a scope holds everywhere.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

KINDS = ("host", "registry", "cluster", "namespace")
_SELECTOR = re.compile(r"^(host|registry|cluster|namespace):[^\s]{1,300}$")


def parse_selector(text: str) -> str:
    """A normalised selector; ValueError naming the problem."""
    selector = text.strip()
    if not _SELECTOR.match(selector):
        raise ValueError(
            f"invalid scope {text!r}: expected host:NAME, registry:HOST, cluster:NAME "
            "or namespace:CLUSTER/NAMESPACE"
        )
    if selector.startswith("namespace:") and "/" not in selector:
        raise ValueError(f"invalid scope {text!r}: a namespace is CLUSTER/NAMESPACE")
    return selector


@dataclass(frozen=True)
class Scope:
    selectors: frozenset[str] = frozenset()

    @classmethod
    def of(cls, selectors: Iterable[str]) -> Scope:
        return cls(frozenset(parse_selector(s) for s in selectors))

    @property
    def everything(self) -> bool:
        return not self.selectors

    @property
    def key(self) -> str:
        """A short stable name of the scope ("" for everything), for per-scope history."""
        if self.everything:
            return ""
        return hashlib.sha256("\n".join(sorted(self.selectors)).encode()).hexdigest()[:16]

    def permits(self, tags: Iterable[str]) -> bool:
        """Whether an asset with ``tags`` is visible in this scope."""
        return self.everything or any(tag in self.selectors for tag in tags)

    def as_list(self) -> list[str]:
        return sorted(self.selectors)


EVERYTHING = Scope()


class OutsideScope(PermissionError):
    """What was asked lies outside the caller's scope (answered with 403)."""


def covers(outer: Scope, selectors: Iterable[str]) -> bool:
    """Whether a scope of ``selectors`` (a user's or token's) lies within ``outer``: a scoped
    owner hands out and manages only what it sees itself."""
    inner = set(selectors)
    return outer.everything or (bool(inner) and inner <= outer.selectors)


def require_everything(scope: Scope) -> None:
    """Center-wide changes (settings, the audit trail) need an unscoped owner."""
    if not scope.everything:
        raise OutsideScope("this needs an owner whose scope is everything")
