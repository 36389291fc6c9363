"""Why one check could not decide: raised inside a check, reported as status ``error``."""

from __future__ import annotations


class Unassessable(Exception):
    """The facts a check needs are missing; the message is the reason shown as evidence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotApplicable(Exception):
    """The check does not apply to this host or node; the message says why (the evidence)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
