"""The webhook's copy of the kinds a Gatekeeper ``Config`` syncs, as referential data.

Templates that compare an object with the rest of the cluster read ``data.inventory``; at
admission Gatekeeper fills it from a cache of the kinds its ``Config`` (``spec.sync.syncOnly``)
or ``SyncSet`` objects name. Seawall does the same: each synced kind is listed and watched
(:class:`~seawall.admission.listwatch.ListWatch`, one thread a kind), and a review gets
:meth:`SyncedObjects.inventory`, Gatekeeper's layout
(:func:`~seawall.policy.inventory.referential_data`), rebuilt only after a change: reviews
between two changes share one document, which nobody modifies.

Bounded: at most ``max_objects`` objects over all kinds (further ones are left out and the
log says so); each is kept without ``metadata.managedFields`` (bookkeeping no policy reads,
often most of an object's size).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from seawall.admission.listwatch import ListWatch, meta
from seawall.policy.discovery import ApiResource, resource_of
from seawall.policy.inventory import Inventory, referential_data
from seawall.policy.kubeapi import ApiFailure, ApiUnreachable, KubeApi
from seawall.policy.objects import normalise


def _kept(raw: Mapping[str, Any], resource: ApiResource) -> dict[str, Any]:
    """The object as a template reads it: list items carry no kind or apiVersion (the list
    does), so they are set from the resource; managedFields are dropped."""
    obj = dict(raw)
    obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
    metadata = obj.get("metadata")
    if isinstance(metadata, Mapping) and "managedFields" in metadata:
        obj["metadata"] = {k: v for k, v in metadata.items() if k != "managedFields"}
    return obj


class _Kind:
    """The :class:`~seawall.admission.listwatch.Keeper` of one synced resource."""

    def __init__(self, store: SyncedObjects, resource: ApiResource) -> None:
        self.store, self.resource = store, resource
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}  # (namespace, name) -> object

    def _put(self, raw: Any) -> None:
        name = meta(raw, "name")
        if not name or not isinstance(raw, Mapping):
            return
        key = (meta(raw, "namespace"), name)
        if key in self.objects or self.store.room():
            self.objects[key] = _kept(raw, self.resource)
        else:
            self.store.overflowed(self.resource)

    def replace(self, items: list[Any]) -> None:
        with self.store.lock:
            self.objects = {}
            for item in items:
                self._put(item)
            self.store.changed()

    def apply(self, event_type: str, obj: Any) -> None:
        with self.store.lock:
            if event_type == "DELETED":
                self.objects.pop((meta(obj, "namespace"), meta(obj, "name")), None)
            else:
                self._put(obj)
            self.store.changed()

    def unavailable(self, why: str) -> None:
        pass  # the copy stays as last seen, as Gatekeeper's does; the loop logs and retries


class SyncedObjects:
    """The synced kinds' objects, listed and watched, as ``data.inventory``."""

    def __init__(
        self,
        api: KubeApi,
        resources: Sequence[ApiResource],
        *,
        max_objects: int = 100_000,
        backoff: tuple[float, float] = (0.5, 30.0),
        watch_seconds: int = 300,
        log: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.lock = threading.Lock()
        self._max = max_objects
        self._log = log
        self._kinds = [_Kind(self, resource) for resource in resources]
        self._loops = [
            ListWatch(api, kind.resource.path, kind, backoff=backoff, watch_seconds=watch_seconds,
                      log=log, name=f"sync {kind.resource.api_version} {kind.resource.kind}")
            for kind in self._kinds
        ]  # fmt: skip
        self._snapshot: Inventory | None = None
        self._warned = False

    def start(self) -> None:
        for loop in self._loops:
            loop.start()

    def stop(self) -> None:
        for loop in self._loops:
            loop.stop()

    def wait_synced(self, timeout: float) -> bool:
        """Whether every synced kind has been listed (waiting at most ``timeout`` seconds
        for each)."""
        return all(loop.synced.wait(timeout) for loop in self._loops)

    def room(self) -> bool:
        """Is there room for one more object (under the lock)?"""
        return sum(len(kind.objects) for kind in self._kinds) < self._max

    def overflowed(self, resource: ApiResource) -> None:
        """An object did not fit (under the lock): said once in the log."""
        if not self._warned:
            self._warned = True
            self._log(f"sync: more than {self._max} objects; {resource.kind} objects left out")

    def changed(self) -> None:
        """The copy changed (under the lock): the next review gets a new document."""
        self._snapshot = None

    def inventory(self) -> Inventory:
        """``data.inventory`` as the synced kinds are now (shared: not to be modified)."""
        with self.lock:
            if self._snapshot is None:
                objects = [o for kind in self._kinds for o in kind.objects.values()]
                self._snapshot = referential_data(normalise(o) for o in objects)
            return self._snapshot


def start_synced(
    api: KubeApi, kinds: Iterable[tuple[str, str, str]], log: Callable[[str], None]
) -> SyncedObjects | None:
    """Start syncing ``kinds`` (``(group, version, kind)``, from the policy library's Config
    and SyncSet objects) through ``api``; None when there is nothing to sync. A kind the
    cluster does not serve is logged and left out; the first lists are awaited briefly."""
    resources = []
    for group, version, kind in sorted(kinds):
        try:
            resource = resource_of(api, group, version, kind)
        except (ApiFailure, ApiUnreachable) as exc:
            log(f"sync: cannot read {group}/{version} ({exc}); {kind} is not synced")
            continue
        if resource is None:
            log(f"sync: the cluster serves no listable {kind} in {group or 'core'}/{version}")
            continue
        resources.append(resource)
    if not resources:
        return None
    synced = SyncedObjects(api, resources, log=log)
    synced.start()
    if not synced.wait_synced(10.0):
        log("sync: not every synced kind is listed yet; templates see what is")
    return synced
