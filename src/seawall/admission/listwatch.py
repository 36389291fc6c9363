"""Keep a copy of one Kubernetes collection current: list it, then watch it, on a thread.

The collection is listed once (every page) and kept current by a watch (newline-delimited
JSON events). A dropped watch is resumed from the last resourceVersion after a backoff that
doubles up to a limit; an expired resourceVersion (410 Gone) means a fresh list. What to
keep of each object is the owner's (:class:`Keeper`): the namespace cache and the synced
objects of referential data are both kept this way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from seawall.policy.kubeapi import ApiFailure, ApiUnreachable, KubeApi


class Keeper(Protocol):
    """What a :class:`ListWatch` feeds: each call under the keeper's own lock."""

    def replace(self, items: list[Any]) -> None:
        """The collection as a fresh list has it (the first list, or after 410 Gone)."""

    def apply(self, event_type: str, obj: Any) -> None:
        """One watch event: ``ADDED``, ``MODIFIED`` or ``DELETED`` of ``obj``."""

    def unavailable(self, why: str) -> None:
        """The API failed; ``why`` until the next list succeeds."""


class _Expired(Exception):
    """The watch's resourceVersion is too old (410 Gone): list again."""


def meta(raw: Any, key: str) -> str:
    """``metadata.<key>`` of an untrusted object, or ""."""
    metadata = raw.get("metadata") if isinstance(raw, Mapping) else None
    return str(metadata.get(key) or "") if isinstance(metadata, Mapping) else ""


class ListWatch:
    """The list-then-watch loop of one collection ``path`` for ``keeper``."""

    def __init__(
        self,
        api: KubeApi,
        path: str,
        keeper: Keeper,
        *,
        backoff: tuple[float, float] = (0.5, 30.0),
        watch_seconds: int = 300,
        log: Callable[[str], None] = lambda message: None,
        name: str = "",
        noun: str = "objects",
    ) -> None:
        self._api = api
        self._path = path
        self._keeper = keeper
        self._backoff = backoff
        self._watch_seconds = watch_seconds
        self._log = log
        self._name = name or path
        self._noun = noun  # what the log calls the items: "namespaces", "objects"
        self.synced = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"watch {self._name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end; it does when the watch request in progress ends (a read
        cannot be interrupted), so this waits only briefly: the thread is a daemon."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=0.5)

    def _relist(self) -> str:
        """Replace the keeper's copy with a fresh list; the list's resourceVersion."""
        items: list[Any] = []
        version = ""
        for page in self._api.pages(self._path):
            items.extend(page.get("items") or [])
            version = meta(page, "resourceVersion") or version
        self._keeper.replace(items)
        self.synced.set()
        self._log(f"{self._name}: listed {len(items)} {self._noun} at {version}")
        return version

    def _watch(self, version: str) -> str:
        """Apply watch events from ``version`` until the stream ends; the last version."""
        for event in self._api.watch(self._path, version, self._watch_seconds):
            kind, obj = event.get("type"), event.get("object")
            if kind == "ERROR":
                code = obj.get("code") if isinstance(obj, Mapping) else None
                if code == 410:
                    raise _Expired
                raise ApiFailure(int(code or 500), "WatchError", str(obj)[:200])
            if kind in ("ADDED", "MODIFIED", "DELETED"):
                self._keeper.apply(str(kind), obj)
            version = meta(obj, "resourceVersion") or version
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
                self._log(f"{self._name}: resourceVersion expired; listing again")
                version = ""
            except (ApiFailure, ApiUnreachable) as exc:
                self._keeper.unavailable(f"the Kubernetes API is unavailable ({exc})")
                self._log(f"{self._name}: {exc}; retrying in {delay:g}s")
                self._stop.wait(delay)
                delay = min(delay * 2, self._backoff[1])
