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
    # Why the namespace's labels are unknown when a namespaceSelector needs them (admission
    # without a namespace cache, or a cache not in sync); "" lets such a selector not match,
    # as in a manifest scan without the Namespace.
    namespace_unknown: str = ""
    dry_run: bool = False
    uid: str = ""
    # When the answer is due (``time.monotonic()``), as at admission: template evaluations
    # still running then are stopped and become policy errors. None: only their own budget.
    deadline: float | None = None
    # The cluster's other objects as Gatekeeper's ``data.inventory``
    # (:func:`seawall.policy.inventory.referential_data`); None: nothing is known of them.
    inventory: Mapping[str, Any] | None = None
