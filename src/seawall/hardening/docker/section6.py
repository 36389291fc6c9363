"""CIS Docker Benchmark section 6: security operations (image and container sprawl)."""

from __future__ import annotations

from seawall.hardening.benchmark import Result, verdict
from seawall.hardening.docker.facts import HostFacts
from seawall.hardening.docker.registry import host_check
from seawall.model import Status

STOPPED_SPRAWL = 25


@host_check("6.1", api=True)
def image_sprawl(facts: HostFacts) -> Result:
    total = len(facts.images)
    used = len({i.id for i in facts.images} & facts.image_ids_in_use)
    return verdict(
        used < total / 2,
        f"{total} images, {used} used by containers: remove unused ones",
        f"{total} images, {used} used by containers",
        failure=Status.INFO,
    )


@host_check("6.2", api=True)
def container_sprawl(facts: HostFacts) -> Result:
    stopped = facts.container_count - facts.running_count
    shown = f"{facts.container_count} containers, {stopped} stopped"
    return verdict(stopped > STOPPED_SPRAWL, shown, shown, failure=Status.INFO)
