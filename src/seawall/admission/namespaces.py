"""The webhook's Namespace cache, so Gatekeeper ``namespaceSelector``s can match namespaced
objects by their namespace's labels (an AdmissionRequest carries only the namespace's name).

Namespaces are listed once at start and kept current by a watch (newline-delimited JSON
events). A dropped watch is resumed from the last resourceVersion after a backoff that
doubles up to a limit; an expired resourceVersion (410 Gone) means a fresh list. Lookups
come from request threads while the watch thread writes, under one lock. Only each
Namespace's name, uid, labels and annotations are kept, for at most ``max_namespaces``.

A lookup says why it has no answer (never synced, the namespace unknown, the cache full),
and the engine turns that into an error its failure policy decides.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from seawall.policy.kubeapi import ApiFailure, ApiUnreachable, KubeApi

PATH = "/api/v1/namespaces"


class _Expired(Exception):
    """The watch's resourceVersion is too old (410 Gone): list again."""


def _slim(raw: Mapping[str, Any]) -> dict[str, Any]:
    """What selectors and CEL's namespaceObject read of a Namespace, and nothing more."""
    metadata = raw.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    kept = {k: metadata[k] for k in ("name", "uid", "labels", "annotations") if k in metadata}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": kept}


def _meta(raw: Any, key: str) -> str:
    """``metadata.<key>`` of an untrusted object, or ""."""
    metadata = raw.get("metadata") if isinstance(raw, Mapping) else None
    return str(metadata.get(key) or "") if isinstance(metadata, Mapping) else ""


class NamespaceCache:
    """Namespaces by name, listed and watched on a background thread."""

    def __init__(
        self,
        api: KubeApi,
        *,
        max_namespaces: int = 100_000,
        backoff: tuple[float, float] = (0.5, 30.0),
        watch_seconds: int = 300,
        log: Callable[[str], None] = lambda message: None,
    ) -> None:
        self._api = api
        self._max = max_namespaces
        self._backoff = backoff
        self._watch_seconds = watch_seconds
        self._log = log
        self._lock = threading.Lock()
        self._namespaces: dict[str, dict[str, Any]] = {}
        self._full = False
        self._problem = "the namespace cache has not listed the namespaces yet"
        self._synced = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="namespace-cache", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end; it does when the watch request in progress ends (a read
        cannot be interrupted), so this waits only briefly: the thread is a daemon."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=0.5)

    def wait_synced(self, timeout: float) -> bool:
        """Whether the first list has completed within ``timeout`` seconds."""
        return self._synced.wait(timeout)

    def lookup(self, name: str) -> tuple[Mapping[str, Any] | None, str]:
        """The Namespace called ``name``, or None and why it is not known."""
        with self._lock:
            if not self._synced.is_set():
                return None, self._problem
            found = self._namespaces.get(name)
            if found is not None:
                return found, ""
            if self._full:
                return None, f"the namespace cache is full ({self._max} namespaces)"
            return None, f"namespace {name} is not in the namespace cache"

    def _store(self, raw: Any) -> None:
        """Add or replace one Namespace (under the lock)."""
        name = _meta(raw, "name")
        if not name:
            return
        if name in self._namespaces or len(self._namespaces) < self._max:
            self._namespaces[name] = _slim(raw)
        else:
            self._full = True

    def _relist(self) -> str:
        """Replace the cache with a fresh list; the list's resourceVersion."""
        items: list[Any] = []
        version = ""
        for page in self._api.pages(PATH):
            items.extend(page.get("items") or [])
            version = _meta(page, "resourceVersion") or version
        with self._lock:
            self._namespaces, self._full = {}, False
            for item in items:
                self._store(item)
            self._synced.set()
        self._log(f"namespace cache: listed {len(items)} namespaces at {version}")
        return version

    def _watch(self, version: str) -> str:
        """Apply watch events from ``version`` until the stream ends; the last version."""
        for event in self._api.watch(PATH, version, self._watch_seconds):
            kind, obj = event.get("type"), event.get("object")
            if kind == "ERROR":
                code = obj.get("code") if isinstance(obj, Mapping) else None
                if code == 410:
                    raise _Expired
                raise ApiFailure(int(code or 500), "WatchError", str(obj)[:200])
            with self._lock:
                if kind in ("ADDED", "MODIFIED"):
                    self._store(obj)
                elif kind == "DELETED":
                    self._namespaces.pop(_meta(obj, "name"), None)
            version = _meta(obj, "resourceVersion") or version
            if self._stop.is_set():
                break
        return version

    def _run(self) -> None:
        version = ""
        delay = self._backoff[0]
        while not self._stop.is_set():
            try:
                if not version:
                    version = self._relist()
                started = version
                version = self._watch(version)
                delay = self._backoff[0]
                if version == started:  # a stream that ended with no event: do not spin
                    self._stop.wait(delay)
            except _Expired:
                self._log("namespace cache: resourceVersion expired; listing again")
                version = ""
            except (ApiFailure, ApiUnreachable) as exc:
                with self._lock:
                    self._problem = f"the Kubernetes API is unavailable ({exc})"
                self._log(f"namespace cache: {exc}; retrying in {delay:g}s")
                self._stop.wait(delay)
                delay = min(delay * 2, self._backoff[1])
