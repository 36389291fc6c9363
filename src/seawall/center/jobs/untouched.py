"""Settle, without matching them, the stored inventories an advisory update did not touch.

When the center first sees an advisory database, it stores the database's state
(:class:`~seawall.vulndb.footprint.StoreState`: what matches with it depend on). Every
inventory matched with an earlier database whose state is kept, and whose footprint (what its
match read) holds none of the keys that changed between the two, would match exactly as it
did: it is marked matched with the new database and scanned now, in bulk, in the same
transaction. The others are left to the ``match_images`` jobs (:mod:`.matching`). A state no
inventory is matched with any longer is dropped.

An everyday update changes the advisories of a few hundred packages; most images hold none
of them, and their re-match costs a few microseconds instead of a match and an ingest.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import OrderedDict
from collections.abc import Collection
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from seawall.center.store.database import upsert
from seawall.center.store.models import AdvisoryState, Asset, StoredInventory
from seawall.vulndb.footprint import StoreState, changed_keys, touched
from seawall.vulndb.store import AdvisoryStore

log = logging.getLogger(__name__)
_CHUNK = 500


def known(session: Session, built_at: str) -> bool:
    """Has the state of the database ``built_at`` been stored (and its update settled)?"""
    return session.get(AdvisoryState, built_at) is not None


def changes_since(
    session: Session,
    store: AdvisoryStore,
    state: StoreState,
    among: Collection[str] | None = None,
) -> dict[str, frozenset[int]]:
    """For each earlier database whose state is kept (by ``built_at``; only those ``among``
    when given): the keys that changed between it and ``store`` (whose state is ``state``),
    when they can be compared."""
    current = store.describe().get("built_at", "")
    query = select(AdvisoryState.built_at, AdvisoryState.data).where(
        AdvisoryState.built_at != current
    )
    if among is not None:
        query = query.where(AdvisoryState.built_at.in_(sorted(among)))
    changes: dict[str, frozenset[int]] = {}
    for older, data in session.execute(query).all():
        previous = StoreState.decode(data)
        changed = changed_keys(previous, state, store) if previous else None
        if changed is not None:
            changes[older] = changed
    return changes


class AdvisoryChanges:
    """The keys changed between two advisory databases, for the last :data:`PAIRS` pairs
    (older, newer) asked for. Every match job of an update needs the changes from its images'
    databases to the current one; computed from the two stored states (decoding them and
    comparing ~0.2 s on the full OSV database), they are computed once here instead of once a
    job. A pair's changes never change (a database is named by when it was built), so an
    entry is never stale; the bound keeps a center running for months at a few pairs."""

    PAIRS = 4

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pairs: OrderedDict[tuple[str, str], frozenset[int] | None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._pairs)

    def since(
        self, session: Session, store: AdvisoryStore, among: Collection[str]
    ) -> dict[str, frozenset[int]]:
        """:func:`changes_since` for the databases ``among`` (those that cannot be compared
        left out)."""
        current = store.describe().get("built_at", "")
        with self._lock:
            known = {o: self._pairs[(o, current)] for o in among if (o, current) in self._pairs}
        missing = [older for older in among if older not in known]
        state = current_state(session, current) if missing else None
        if state is not None:  # None: not settled yet, nothing to compare with
            found = changes_since(session, store, state, among=missing)
            known.update((older, found.get(older)) for older in missing)
            with self._lock:
                self._pairs.update(((older, current), known[older]) for older in missing)
                while len(self._pairs) > self.PAIRS:
                    self._pairs.popitem(last=False)
        return {older: changed for older, changed in known.items() if changed is not None}


def current_state(session: Session, built_at: str) -> StoreState | None:
    """The stored state of the database ``built_at``, if any."""
    data = session.scalar(select(AdvisoryState.data).where(AdvisoryState.built_at == built_at))
    return StoreState.decode(data) if data is not None else None


def settle_untouched(
    session: Session, store: AdvisoryStore, state: StoreState, now: dt.datetime
) -> int | None:
    """Store ``state`` (of ``store``, the current database) and settle the inventories the
    change from their database to this one did not touch; how many. None when another
    process stored the state first (and so settles). ``state`` is computed by the caller
    outside the transaction: this one writes first, so on SQLite it holds the write lock from
    its first statement (a read first could not be upgraded once another writer committed)."""
    built_at = store.describe().get("built_at", "")
    inserted: Any = session.execute(
        upsert(session, AdvisoryState)
        .values(built_at=built_at, created_at=now, data=state.encode())
        .on_conflict_do_nothing(index_elements=["built_at"])
    )
    if not inserted.rowcount:
        return None
    settled = 0
    for older, changed in changes_since(session, store, state).items():
        untouched = [
            image_id
            for image_id, footprint in session.execute(
                select(StoredInventory.image_id, StoredInventory.footprint)
                .where(
                    StoredInventory.matched_with == older, StoredInventory.footprint.is_not(None)
                )
                .execution_options(yield_per=1000)  # ~1 KB each: streamed, not all at once
            )
            if footprint is not None and not touched(footprint, changed)
        ]
        for start in range(0, len(untouched), _CHUNK):
            chunk = untouched[start : start + _CHUNK]
            session.execute(
                update(StoredInventory)
                .where(StoredInventory.image_id.in_(chunk))
                .values(matched_with=built_at)
            )
            session.execute(update(Asset).where(Asset.id.in_(chunk)).values(last_scanned=now))
        log.info(
            "advisory update %s -> %s: %d package keys changed, %d inventories untouched",
            older, built_at, len(changed), len(untouched),
        )  # fmt: skip
        settled += len(untouched)
    in_use = select(StoredInventory.matched_with).distinct()
    session.execute(
        delete(AdvisoryState).where(
            AdvisoryState.built_at != built_at, AdvisoryState.built_at.not_in(in_use)
        )
    )
    return settled
