"""CIS Docker Benchmark section 4: container images and their build files."""

from __future__ import annotations

import re

from seawall.hardening.benchmark import Result, verdict
from seawall.hardening.docker.facts import ContainerFacts, HostFacts, ImageFacts
from seawall.hardening.docker.registry import container_check, host_check, image_check, manual_check
from seawall.model import Status

ROOT_USERS = frozenset({"", "0", "root"})
_UPDATE = re.compile(r"\b(apt-get|apt|yum|dnf|apk|zypper|microdnf)\s+(-\S+\s+)*(update|upgrade)\b")
_INSTALL = re.compile(r"\b(install|add)\b")
_ADD = re.compile(r"(^|#\(nop\)\s+|\s)ADD\s", re.IGNORECASE)


@container_check("4.1")
def container_user(container: ContainerFacts, facts: HostFacts) -> Result:
    user = str(container.config.get("User") or "")
    name = user.split(":", 1)[0]
    return verdict(name in ROOT_USERS, f"User={user or '(empty: root)'}", f"User={user}")


manual_check("4.2", "trust in base images is a policy decision: review their sources")
manual_check("4.3", "review the packages of each image (seawall sbom IMAGE lists them)")
manual_check("4.4", "scan images and rebuild them regularly (seawall image scan)")


@host_check("4.5")
def content_trust(facts: HostFacts) -> Result:
    value = facts.environment.get("DOCKER_CONTENT_TRUST", "")
    return verdict(
        value != "1",
        f"DOCKER_CONTENT_TRUST={value or '(unset)'} in this environment",
        "DOCKER_CONTENT_TRUST=1",
    )


@image_check("4.6")
def image_healthcheck(image: ImageFacts, facts: HostFacts) -> Result:
    health = (image.inspect.get("Config") or {}).get("Healthcheck") or {}
    test = health.get("Test") or []
    missing = not test or test[0] == "NONE"
    return verdict(missing, "no HEALTHCHECK instruction", f"HEALTHCHECK {' '.join(test)}")


@image_check("4.7")
def update_alone(image: ImageFacts, facts: HostFacts) -> Result:
    alone = [s for s in image.history if _UPDATE.search(s) and not _INSTALL.search(s)]
    return verdict(
        bool(alone), f"update without install: {alone[0][:200]}" if alone else "",
        "no update instruction used alone", failure=Status.INFO,
    )  # fmt: skip


manual_check("4.8", "list setuid/setgid files in each image and remove the bits not needed")


@image_check("4.9")
def add_instead_of_copy(image: ImageFacts, facts: HostFacts) -> Result:
    # The first layer of most images is the base root filesystem, added with ADD.
    steps = [s for i, s in enumerate(image.history) if _ADD.search(s) and i > 0]
    return verdict(
        bool(steps), f"ADD used: {steps[0][:200]}" if steps else "",
        "no ADD instruction (after the base layer)", failure=Status.INFO,
    )  # fmt: skip


manual_check("4.10", "review Dockerfiles and image history for secrets")
manual_check("4.11", "check that package managers verify signatures in every build")
manual_check("4.12", "check that image signatures are verified before deployment")
