"""The webhook's Namespace cache, so Gatekeeper ``namespaceSelector``s can match namespaced
objects by their namespace's labels (an AdmissionRequest carries only the namespace's name).

Namespaces are listed once at start and kept current by a watch
(:class:`~seawall.admission.listwatch.ListWatch`). Lookups come from request threads while
the watch thread writes, under one lock. Only each
Namespace's name, uid, labels and annotations are kept, for at most ``max_namespaces``.

A lookup says why it has no answer (never synced, the namespace unknown, the cache full),
and the engine turns that into an error its failure policy decides.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from seawall.admission.listwatch import ListWatch, meta
from seawall.policy.kubeapi import KubeApi

PATH = "/api/v1/namespaces"


def _slim(raw: Mapping[str, Any]) -> dict[str, Any]:
    """What selectors and CEL's namespaceObject read of a Namespace, and nothing more."""
    metadata = raw.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    kept = {k: metadata[k] for k in ("name", "uid", "labels", "annotations") if k in metadata}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": kept}


class NamespaceCache:
    """Namespaces by name, listed and watched on a background thread (:class:`ListWatch`)."""

    def __init__(
        self,
        api: KubeApi,
        *,
        max_namespaces: int = 100_000,
        backoff: tuple[float, float] = (0.5, 30.0),
        watch_seconds: int = 300,
        log: Callable[[str], None] = lambda message: None,
    ) -> None:
        self._max = max_namespaces
        self._lock = threading.Lock()
        self._namespaces: dict[str, dict[str, Any]] = {}
        self._full = False
        self._problem = "the namespace cache has not listed the namespaces yet"
        self._loop = ListWatch(api, PATH, self, backoff=backoff, watch_seconds=watch_seconds,
                               log=log, name="namespace cache", noun="namespaces")  # fmt: skip

    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop()

    def wait_synced(self, timeout: float) -> bool:
        """Whether the first list has completed within ``timeout`` seconds."""
        return self._loop.synced.wait(timeout)

    def lookup(self, name: str) -> tuple[Mapping[str, Any] | None, str]:
        """The Namespace called ``name``, or None and why it is not known."""
        with self._lock:
            if not self._loop.synced.is_set():
                return None, self._problem
            found = self._namespaces.get(name)
            if found is not None:
                return found, ""
            if self._full:
                return None, f"the namespace cache is full ({self._max} namespaces)"
            return None, f"namespace {name} is not in the namespace cache"

    def _store(self, raw: Any) -> None:
        """Add or replace one Namespace (under the lock)."""
        name = meta(raw, "name")
        if not name:
            return
        if name in self._namespaces or len(self._namespaces) < self._max:
            self._namespaces[name] = _slim(raw)
        else:
            self._full = True

    def replace(self, items: list[Any]) -> None:
        with self._lock:
            self._namespaces, self._full = {}, False
            for item in items:
                self._store(item)

    def apply(self, event_type: str, obj: Any) -> None:
        with self._lock:
            if event_type == "DELETED":
                self._namespaces.pop(meta(obj, "name"), None)
            else:
                self._store(obj)

    def unavailable(self, why: str) -> None:
        with self._lock:
            self._problem = why
