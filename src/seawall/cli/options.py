"""Option values every command reads the same way: lists and severity thresholds."""

from __future__ import annotations

from seawall.errors import InputError
from seawall.model import Severity


def split_values(values: list[str] | None) -> tuple[str, ...]:
    """Repeated options and comma-separated lists, flattened."""
    return tuple(
        part.strip() for value in values or [] for part in value.split(",") if part.strip()
    )


def parse_threshold(text: str | None, option: str = "--fail-on") -> Severity | None:
    """The severity named by ``option`` (None when not given); a clear error otherwise."""
    if not text:
        return None
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise InputError(f"{option}: {exc}") from None
