"""The one shape every scheme has: a name and a cached ``key`` built from a parse function."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from seawall.vulndb.versions import InvalidVersion

# Longer strings are not versions any package manager produces; refusing them bounds the work
# one hostile advisory or manifest can cause.
MAX_LENGTH = 512

# Enough for every distinct version in a large advisory database and an image's packages.
CACHE_SIZE = 1 << 18


class Scheme:
    """A version ordering: ``key(version)`` is the parse function, length-checked and cached."""

    def __init__(self, name: str, parse: Callable[[str], Any]) -> None:
        self.name = name
        self._parse = parse
        self.key: Callable[[str], Any] = functools.lru_cache(maxsize=CACHE_SIZE)(self._checked)

    def _checked(self, version: str) -> Any:
        if not isinstance(version, str):
            raise InvalidVersion(self.name, repr(version), "a version is a string")
        if len(version) > MAX_LENGTH:
            raise InvalidVersion(self.name, version, f"longer than {MAX_LENGTH} characters")
        return self._parse(version)

    def __repr__(self) -> str:
        return f"<version scheme {self.name}>"
