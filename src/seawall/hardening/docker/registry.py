"""The check interface: each CIS check registers under its id a function of the
:class:`HostFacts` snapshot that yields :class:`Result`s; the runner turns them into Findings
with the rule's metadata from the ``cis-docker`` catalog."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import TypeVar

from seawall.hardening.benchmark import Result
from seawall.hardening.docker.facts import ContainerFacts, HostFacts, ImageFacts
from seawall.hardening.errors import Unassessable
from seawall.model import Status

CheckFunction = Callable[[HostFacts], Iterable[Result]]
T = TypeVar("T", ContainerFacts, ImageFacts)


@dataclass(frozen=True)
class Check:
    """A registered check. ``api``: needs the Engine API. ``dockerd``: assesses dockerd's own
    configuration or files (not applicable to Podman). ``rootful``: assesses system files of
    a rootful install (not applicable to rootless Docker)."""

    id: str
    run: CheckFunction
    api: bool = False
    dockerd: bool = False
    rootful: bool = False


CHECKS: dict[str, Check] = {}


def host_check(
    check_id: str, *, api: bool = False, dockerd: bool = False, rootful: bool = False
) -> Callable[[Callable[[HostFacts], Result | Iterable[Result]]], CheckFunction]:
    """Register a check of the host as a whole; the function returns one or more Results."""

    def register(function: Callable[[HostFacts], Result | Iterable[Result]]) -> CheckFunction:
        def run(facts: HostFacts) -> Iterator[Result]:
            outcome = function(facts)
            if isinstance(outcome, Result):
                yield outcome
            else:
                yield from outcome

        if check_id in CHECKS:
            raise ValueError(f"check {check_id} registered twice")
        CHECKS[check_id] = Check(check_id, run, api=api, dockerd=dockerd, rootful=rootful)
        return run

    return register


def _each(
    check_id: str,
    members: Callable[[HostFacts], list[T]],
    nothing: str,
    function: Callable[[T, HostFacts], Result],
) -> None:
    def run(facts: HostFacts) -> Iterator[Result]:
        assessed = members(facts)
        if not assessed:
            yield Result(Status.NOT_APPLICABLE, nothing)
        for member in assessed:
            if member.error:
                yield Result(Status.ERROR, member.error, member.resource)
                continue
            try:
                result = function(member, facts)
            except Unassessable as exc:
                result = Result(Status.ERROR, exc.reason)
            yield replace(result, resource=result.resource or member.resource)

    host_check(check_id, api=True)(run)


ContainerFunction = Callable[[ContainerFacts, HostFacts], Result]
ImageFunction = Callable[[ImageFacts, HostFacts], Result]


def container_check(check_id: str) -> Callable[[ContainerFunction], ContainerFunction]:
    """Register a check evaluated on every assessed container (running, or all with
    ``--include-stopped``); a container that could not be inspected reports ``error``."""

    def register(function: ContainerFunction) -> ContainerFunction:
        _each(
            check_id,
            lambda facts: facts.containers,
            "no containers to assess (stopped ones are assessed with --include-stopped)",
            function,
        )
        return function

    return register


def image_check(check_id: str) -> Callable[[ImageFunction], ImageFunction]:
    """Register a check evaluated on every image of the host."""

    def register(function: ImageFunction) -> ImageFunction:
        _each(check_id, lambda facts: facts.images, "no images on this host", function)
        return function

    return register


def manual_check(check_id: str, note: str) -> None:
    """Register a check the benchmark leaves to people: reported ``manual`` with ``note``;
    the rule's remediation is the guidance."""
    host_check(check_id)(lambda facts: Result(Status.MANUAL, note))
