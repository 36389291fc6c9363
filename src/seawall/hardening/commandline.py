"""Command lines as Go programs parse them (pflag: ``--name=value``, ``--name value``, a
boolean ``--name`` alone), read from ``/proc/<pid>/cmdline`` or a manifest's argv."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def parse_flags(
    argv: Sequence[str],
    *,
    booleans: frozenset[str] = frozenset(),
    short: Mapping[str, str] | None = None,
) -> dict[str, list[str]]:
    """Flags of ``argv`` (the program name excluded) by long name, in order.

    A flag in ``booleans``, or one followed by another flag or by nothing, given without
    ``=value`` reads ``"true"``; other flags take the next word. Repeated flags keep every
    value (the last one is in effect for single-valued flags). ``short`` maps one-letter
    flags to long names (``-H unix://...``, ``-Hunix://...``). Positional words are skipped.
    """
    shorts = short or {}
    flags: dict[str, list[str]] = {}
    index = 0
    while index < len(argv):
        word = argv[index]
        index += 1
        if not word.startswith("-") or word in ("-", "--"):
            continue
        name, separator, value = word.lstrip("-").partition("=")
        has_value = bool(separator)
        if not word.startswith("--"):
            if not has_value and len(name) > 1 and name[0] in shorts:
                name, value, has_value = name[0], name[1:], True
            name = shorts.get(name, name)
        if not has_value:
            if name in booleans or index >= len(argv) or argv[index].startswith("-"):
                value = "true"
            else:
                value = argv[index]
                index += 1
        flags.setdefault(name, []).append(value)
    return flags


def read_cmdline(raw: bytes) -> list[str]:
    """``/proc/<pid>/cmdline`` bytes as an argv list (NUL separated)."""
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]
