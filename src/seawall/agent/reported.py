"""Which image digests the agent has reported already: a bounded LRU, not a growing set."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict


class ReportedImages:
    """At most ``capacity`` digests, the least recently seen forgotten first; an entry older
    than ``max_age`` seconds counts as not reported (the center hears about a long-running
    image again once a day, and a forgotten one is only read again, from the layer cache)."""

    def __init__(self, capacity: int = 4096, max_age: float = 86_400.0) -> None:
        self.capacity = capacity
        self.max_age = max_age
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, digest: object) -> bool:
        with self._lock:
            when = self._seen.get(str(digest))
            if when is None:
                return False
            if time.monotonic() - when > self.max_age:
                del self._seen[str(digest)]
                return False
            self._seen.move_to_end(str(digest))
            return True

    def add(self, digest: str) -> None:
        with self._lock:
            self._seen[digest] = time.monotonic()
            self._seen.move_to_end(digest)
            while len(self._seen) > self.capacity:
                self._seen.popitem(last=False)
