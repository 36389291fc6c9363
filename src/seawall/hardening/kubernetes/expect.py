"""What a check wants of a value: an :class:`Expect` says whether a value holds and how to
write the wish in evidence ("want false"). Values arrive as flags give them (strings), as a
config file gives them (bool, int, list) or as None (not set, no default)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def text(value: Any) -> str:
    """A value as a flag would spell it (``True`` -> ``true``, a list comma-joined)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(text(v) for v in value)
    return "" if value is None else str(value)


def items(value: Any) -> list[str]:
    """A comma-separated flag (or a config list) as its items."""
    return [part.strip() for part in text(value).split(",") if part.strip()]


def _integer(value: Any) -> int | None:
    try:
        return int(text(value))
    except ValueError:
        return None


KEEP_OUT = None  # a remedy meaning "remove the flag": its default is what is wanted


def _placeholder(value: Any) -> str | None:
    return "<value>"


@dataclass(frozen=True)
class Expect:
    """``wanted``: the wish as evidence writes it; ``test``: whether a value holds;
    ``remedy``: from the value given (None when unset), the value that would hold
    (``KEEP_OUT``: remove the flag; ``"<value>"``: only the operator knows)."""

    wanted: str
    test: Callable[[Any], bool]
    remedy: Callable[[Any], str | None] = _placeholder

    def holds(self, value: Any) -> bool:
        return self.test(value)


def equals(expected: str) -> Expect:
    return Expect(expected, lambda v: text(v).lower() == expected.lower(), lambda v: expected)


def not_equals(refused: str) -> Expect:
    return Expect(f"not {refused}", lambda v: text(v).lower() != refused.lower(),
                  lambda v: KEEP_OUT)  # fmt: skip


def includes(item: str) -> Expect:
    return Expect(f"{item} included", lambda v: item in items(v),
                  lambda v: ",".join([*items(v), item]))  # fmt: skip


def excludes(item: str) -> Expect:
    return Expect(f"{item} not included", lambda v: item not in items(v),
                  lambda v: ",".join(i for i in items(v) if i != item) or KEEP_OUT)  # fmt: skip


def at_least(least: int) -> Expect:
    return Expect(f"at least {least}", lambda v: (_integer(v) or 0) >= least,
                  lambda v: str(least))  # fmt: skip


def positive() -> Expect:
    return Expect("a positive limit", lambda v: (_integer(v) or 0) > 0)


IS_SET = Expect("set", lambda v: bool(text(v)))
NOT_SET = Expect("not set", lambda v: not text(v), lambda v: KEEP_OUT)


def subset_of(allowed: Iterable[str]) -> Expect:
    """Every item is allowed, and at least one is given."""
    chosen = frozenset(allowed)
    return Expect(
        "only " + ", ".join(sorted(chosen)),
        lambda v: bool(items(v)) and set(items(v)) <= chosen,
        lambda v: ",".join(i for i in items(v) if i in chosen) or ",".join(sorted(chosen)),
    )


def _on_loopback(value: Any) -> bool:
    """``127.0.0.1``, ``localhost`` or ``::1``, with or without a port (``[::1]:10249``)."""
    address = text(value).strip()
    if address.startswith("["):
        host = address[1 : address.find("]")] if "]" in address else address
    else:
        host = address.rsplit(":", 1)[0] if address.count(":") == 1 else address
    return host in _LOOPBACK


LOOPBACK = Expect("127.0.0.1", _on_loopback, lambda v: "127.0.0.1")


def _zero_duration(value: Any) -> bool:
    """A Go duration (``0``, ``0s``, ``0h0m0s``) or a number of nanoseconds that is zero."""
    spelled = text(value).strip()
    return bool(spelled) and not any(c in "123456789" for c in spelled)


NONZERO_DURATION = Expect("not 0", lambda v: not _zero_duration(v))


def gate_not_false(gate: str) -> Expect:
    """A ``--feature-gates`` list that does not turn ``gate`` off (``Gate=false``, any case,
    spaces allowed, as Kubernetes parses it)."""

    def turned_off(value: Any) -> bool:
        for pair in items(value):
            name, _, state = pair.partition("=")
            if name.strip() == gate and state.strip().lower() == "false":
                return True
        return False

    def remedy(value: Any) -> str | None:
        kept = [p for p in items(value) if p.partition("=")[0].strip() != gate]
        return ",".join(kept) or KEEP_OUT

    return Expect(f"{gate} not turned off", lambda v: not turned_off(v), remedy)
