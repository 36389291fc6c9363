"""What a policy may know about the request besides the object: the operation, the old
object, the user, the namespace. A manifest scan or cluster listing is a CREATE with no user."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Review:
    operation: str = "CREATE"
    old_object: Mapping[str, Any] | None = None
    user_info: Mapping[str, Any] = field(default_factory=dict)
    namespace_object: Mapping[str, Any] | None = None
    dry_run: bool = False
    uid: str = ""
