"""Roles and the principal a request acts as.

Three roles, each including the one before: Reader sees everything in its scope;
Contributor also ingests results, changes alert states and manages exceptions; Owner also
manages users, tokens and settings. A principal is a role within a scope (StackRox's model:
permission set x access scope).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from seawall.center.security.scope import Scope


class Role(enum.IntEnum):
    READER = 1
    CONTRIBUTOR = 2
    OWNER = 3

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown role {text!r} (reader, contributor or owner)") from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user (through the dashboard's session or a token they hold) or a
    token, with its role and scope."""

    name: str  # "alice", or "token:ci-pipeline"
    role: Role
    scope: Scope
    user_id: int | None = None
    token_id: int | None = None
    csrf: str = ""  # the session's CSRF token ("" for bearer tokens)

    def can(self, role: Role) -> bool:
        return self.role >= role
