"""The rule index: each event meets only the rules whose conditions can hold for it.

Every source names its index fields (Kubernetes audit: verb and resource; Docker: event type
and action; auditd: syscall). A rule's top-level conditions on those fields (``ka.verb in
(create, update)``) become constraints; the rules for one combination of values are worked
out the first time it is seen and cached, so a benign ``get pods`` is tested against the
handful of rules that look at every request, not the whole pack.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from seawall.model import Rule
from seawall.runtime.events import Event, FieldSpec

MAX_CACHED_KEYS = 10_000  # key values come from untrusted events: bound the cache


@dataclass(frozen=True)
class OutputPart:
    text: str
    field: FieldSpec | None = None


@dataclass(frozen=True)
class CompiledRule:
    """A loaded rule: metadata, the compiled test and what to show when it fires."""

    rule: Rule
    source: str
    match: Callable[[Event], bool]
    evidence: tuple[FieldSpec, ...]
    output: tuple[OutputPart, ...]
    tactic: str = ""
    technique: str = ""
    constraints: dict[str, frozenset[str]] = field(default_factory=dict)


class RuleIndex:
    """Rules of one source, looked up by the tuple of the event's index-field values."""

    def __init__(self, index_fields: Sequence[str], rules: Sequence[CompiledRule]) -> None:
        self.index_fields = tuple(index_fields)
        self.rules = tuple(rules)
        self._cache: dict[tuple[object, ...], tuple[CompiledRule, ...]] = {}

    def candidates(self, key: tuple[object, ...]) -> tuple[CompiledRule, ...]:
        found = self._cache.get(key)
        if found is None:
            found = tuple(r for r in self.rules if self._admits(r, key))
            if len(self._cache) >= MAX_CACHED_KEYS:
                self._cache.clear()
            self._cache[key] = found
        return found

    def _admits(self, rule: CompiledRule, key: tuple[object, ...]) -> bool:
        for name, value in zip(self.index_fields, key, strict=True):
            allowed = rule.constraints.get(name)
            if allowed is not None and value not in allowed:
                return False
        return True

    def matches(self, event: Event) -> list[CompiledRule]:
        """The rules ``event`` satisfies."""
        return [r for r in self.candidates(event.key) if r.match(event)]
