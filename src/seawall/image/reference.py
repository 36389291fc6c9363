"""Image references: ``[registry[:port]/]repository[:tag][@digest]``, Docker's rules."""

from __future__ import annotations

import re

import msgspec

from seawall.errors import InputError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST = re.compile(rf"^(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9A-Fa-f:]+\])(?::[0-9]+)?$")


class Reference(msgspec.Struct, frozen=True):
    """A parsed image reference."""

    registry: str  # host[:port] as written ("docker.io" for Docker Hub)
    repository: str  # "library/debian", "team/app"
    tag: str = ""
    digest: str = ""

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def selector(self) -> str:
        """What to ask the registry for: the digest if given, else the tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_reference(text: str) -> Reference:
    """Parse ``text``; raise InputError naming what is wrong."""
    if not text or len(text) > 4096 or any(c.isspace() for c in text):
        raise InputError(f"invalid image reference {text[:100]!r}")
    rest, _, digest = text.partition("@")
    if digest and not _DIGEST.match(digest):
        raise InputError(f"invalid digest in {text!r}", hint="expected sha256:<64 hex digits>")
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        registry, path = first, remainder
        if not _HOST.match(registry):
            raise InputError(f"invalid registry host {registry!r}")
    else:
        registry, path = DOCKER_HUB, rest
    repository, colon, tag = path.rpartition(":") if ":" in path else (path, "", "")
    if colon and "/" in tag:
        repository, tag = path, ""
    if tag and not _TAG.match(tag):
        raise InputError(f"invalid tag {tag!r} in {text!r}")
    if not repository or not all(_COMPONENT.match(c) for c in repository.split("/")):
        raise InputError(
            f"invalid repository name in {text!r}",
            hint="repository names are lower case letters, digits and . _ - separators",
        )
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    if not tag and not digest:
        tag = "latest"
    return Reference(registry, repository, tag, digest)


def looks_like_reference(text: str) -> bool:
    """True if ``text`` parses as an image reference."""
    try:
        parse_reference(text)
    except InputError:
        return False
    return True
