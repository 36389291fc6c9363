"""The check interface: each benchmark check registers under its id a function of the
:class:`NodeFacts` snapshot that returns one or more :class:`Result`s; the audit turns them
into Findings with the rule's metadata from the ``cis-k8s`` catalog.

``flag_check``, ``kubelet_check`` and ``file_check`` build the common shapes (a component's
flag, a kubelet setting, the owner or mode of files) from an :class:`Expect`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from seawall.hardening.benchmark import Result, verdict
from seawall.hardening.hostfiles import FileInfo
from seawall.hardening.kubernetes.components import KUBELET, Component
from seawall.hardening.kubernetes.expect import IS_SET, Expect
from seawall.hardening.kubernetes.facts import NodeFacts
from seawall.model import Status

CheckFunction = Callable[[NodeFacts], Result | Iterable[Result]]


@dataclass(frozen=True)
class Check:
    """A registered check. ``flags_only``: it reads nothing but a component's flags, so it
    can also judge a component known only from the API (a control plane's mirror pod)."""

    id: str
    run: CheckFunction
    flags_only: bool = False
    flags: tuple[str, ...] = ()  # the flags a flags-only check reads
    expect: Expect | None = None  # what it wants of each of them
    default: Any = None  # the value Kubernetes gives them when unset

    def results(self, facts: NodeFacts) -> list[Result]:
        outcome = self.run(facts)
        return [outcome] if isinstance(outcome, Result) else list(outcome)


CHECKS: dict[str, Check] = {}


def node_check(
    check_id: str, *, flags: tuple[str, ...] = (), expect: Expect | None = None,
    default: Any = None,
) -> Callable[[CheckFunction], CheckFunction]:  # fmt: skip
    """Register ``function`` as the check ``check_id``; ``flags``, ``expect`` and
    ``default`` when it reads nothing but those flags of one component (unset: ``default``)
    and wants ``expect`` of each."""

    def register(function: CheckFunction) -> CheckFunction:
        if check_id in CHECKS:
            raise ValueError(f"check {check_id} registered twice")
        CHECKS[check_id] = Check(check_id, function, bool(flags), flags, expect, default)
        return function

    return register


# When a flag is unset, another setting may say the same (--authorization-config instead of
# --authorization-mode): the value it gives and the evidence, or None.
Otherwise = Callable[[NodeFacts, Component], tuple[str, str] | None]


def flag_check(
    check_id: str, component: str, flag: str, expect: Expect, *, default: Any = None,
    otherwise: Otherwise | None = None,
) -> None:  # fmt: skip
    """The value of ``--flag`` of ``component`` meets ``expect``; an unset flag is judged
    by what ``otherwise`` reads, else by ``default``, Kubernetes' own default (None: the
    flag has none)."""

    def run(facts: NodeFacts) -> Result:
        part = facts.component(component)
        value = part.value(flag)
        shown = part.shown(flag)
        other = otherwise(facts, part) if value is None and otherwise else None
        if other is not None:
            value, shown = other
        elif value is None and default:
            shown += f"; the default is {default}"
        effective = value if value is not None else default
        return verdict(not expect.holds(effective), f"{shown} (want {expect.wanted})", shown)

    if component == KUBELET:
        node_check(check_id)(run)
    else:
        node_check(check_id, flags=(flag,), expect=expect, default=default)(run)


def every_flag_check(check_id: str, component: str, flags: tuple[str, ...]) -> None:
    """Every flag of ``flags`` is set on ``component`` (a certificate and its key)."""

    def run(facts: NodeFacts) -> Result:
        part = facts.component(component)
        shown = "; ".join(part.shown(f) for f in flags)
        missing = [f"--{f}" for f in flags if not part.value(f)]
        return verdict(bool(missing), f"{shown} (want {' and '.join(missing)} set)", shown)

    node_check(check_id, flags=flags, expect=IS_SET)(run)


def kubelet_check(
    check_id: str, flag: str | None, key: str | None, expect: Expect, *,
    flag_default: Any = None, config_default: Any = None,
) -> None:  # fmt: skip
    """A kubelet setting (``--flag`` or config ``key``) meets ``expect``."""

    def run(facts: NodeFacts) -> Result:
        setting = facts.kubelet().get(
            flag, key, flag_default=flag_default, config_default=config_default
        )
        return verdict(
            not expect.holds(setting.value),
            f"{setting.source} (want {expect.wanted})",
            setting.source,
        )

    node_check(check_id)(run)


# A path finder returns the host paths to assess (files and directories).
Paths = Callable[[NodeFacts], list[str]]


def file_check(
    check_id: str, paths: Paths, *, mode: int | None = None,
    owner: tuple[str, str] | None = None,
) -> None:  # fmt: skip
    """Every existing file of ``paths`` has at most ``mode`` and the ``owner``
    (user, group); not applicable when none of them exists."""
    wanted = (
        f"{mode:o} or stricter" if mode is not None else f"{owner[0]}:{owner[1]}" if owner else ""
    )

    def accept(info: FileInfo) -> bool:
        if mode is not None and info.mode & ~mode:
            return False
        return owner is None or (info.user, info.group) == owner

    def run(facts: NodeFacts) -> Result:
        found = paths(facts)
        infos = [info for info in (facts.files.stat(p) for p in found) if info is not None]
        if not infos:
            return Result(Status.NOT_APPLICABLE, f"{', '.join(found) or 'no such file'} "
                          "does not exist on this node")  # fmt: skip
        bad = [i for i in infos if not accept(i)]
        shown = _listed(bad or infos)
        if bad:
            return Result(Status.FAIL, f"{shown} (want {wanted})")
        return Result(Status.PASS, shown)

    node_check(check_id)(run)


def _listed(infos: list[FileInfo], most: int = 5) -> str:
    """At most ``most`` files described, then how many more."""
    shown = "; ".join(i.describe for i in infos[:most])
    return shown + (f"; and {len(infos) - most} more" if len(infos) > most else "")
