"""What matching an inventory reads from the advisory store, so that a re-match after an
update can leave out the inventories the update did not touch.

Matching an inventory reads, for each package, the ``packages`` row of its lookup key and
the advisories that row names, with their KEV and EPSS enrichment; its result depends on
those rows alone. Hence:

* an inventory's *footprint* is the set of lookup keys its match reads, kept as a sorted
  array of 32-bit hashes (:func:`footprint`);
* a store's :class:`StoreState` maps each package key (hashed) to the CRC of its row's
  content, and each advisory id (hashed) to a digest of its content and enrichment;
* the keys an update *changed* (:func:`changed_keys`) are those whose row differs, appeared
  or went, and those named by an advisory whose digest differs (an advisory that went is
  seen through its packages' rows, which lost its entries);
* an inventory matched with the old store whose footprint holds no changed key matches the
  same with the new one (:func:`touched`).

Two keys sharing a hash only make an inventory look touched when it is not: it is then
matched again for nothing, never left out wrongly. Bump :data:`MATCHING` whenever the
matcher's semantics change: footprints and states of another value are not compared.
"""

from __future__ import annotations

import sys
import zlib
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import msgspec

from seawall import __version__
from seawall.model import Inventory, Package
from seawall.vulndb.ecosystems import query_for
from seawall.vulndb.keys import normalise_package, package_key
from seawall.vulndb.store import AdvisoryStore

MATCHING = f"1/{__version__}"
Key = tuple[str, str, str]  # (ecosystem base, release, normalised name): a packages row
_MASK = 0xFFFFFFFF
_state_decoder = msgspec.msgpack.Decoder(tuple[str, dict[int, int], dict[int, int]])


def _package_keys(inventory: Inventory) -> Iterator[tuple[Package, Key]]:
    """Each package of ``inventory`` with each ``packages`` row its match reads (see
    :meth:`seawall.vulndb.match.Matcher._hits`)."""
    for package in inventory.packages:
        query = query_for(package, inventory.distro)
        if query is not None:
            name = normalise_package(query.ecosystem, query.name)
            for release in query.releases:
                yield package, (query.ecosystem, release, name)


def lookups(inventory: Inventory) -> set[Key]:
    """The ``packages`` rows a match of ``inventory`` reads."""
    return {key for _, key in _package_keys(inventory)}


def touched_names(inventory: Inventory, changed: frozenset[int]) -> frozenset[str]:
    """The names of the packages of ``inventory`` whose rows are among the ``changed``
    keys: the findings of every package of those names (a name can be installed at several
    paths) are all a re-match can change."""
    return frozenset(
        package.name for package, key in _package_keys(inventory) if key_hash(key) in changed
    )


def key_hash(key: Key) -> int:
    return zlib.crc32("\x1f".join(key).encode())


def _advisory_hash(advisory_id: str) -> int:
    return zlib.crc32(advisory_id.encode())


def footprint(inventory: Inventory) -> bytes:
    """The sorted hashes of :func:`lookups`, as little-endian 32-bit integers."""
    hashes = array("I", sorted({key_hash(key) for key in lookups(inventory)}))
    return _little_endian(hashes).tobytes()


def touched(footprint_bytes: bytes, changed: frozenset[int]) -> bool:
    """Does an inventory of this footprint read any of the ``changed`` keys?"""
    if not changed:
        return False
    if len(footprint_bytes) % 4:
        return True  # not a footprint: matched again to be safe
    hashes = array("I")
    hashes.frombytes(footprint_bytes)
    return not changed.isdisjoint(_little_endian(hashes))


def _little_endian(values: array[int]) -> array[int]:
    if sys.byteorder == "big":
        values.byteswap()
    return values


@dataclass(frozen=True)
class StoreState:
    """What a store's matches depend on, by hash (see the module's docstring)."""

    matching: str
    packages: dict[int, int]
    advisories: dict[int, int]

    @classmethod
    def of(cls, store: AdvisoryStore) -> StoreState:
        """The state of ``store`` (reads and inflates every row once)."""
        kev, epss_rows = store.enrichment()
        known_exploited = set(kev)
        epss = {cve: score for cve, score, _ in epss_rows}
        packages = _by_hash(
            (key_hash((eco, release, name)), content)
            for eco, release, name, content in store.package_contents()
        )
        advisories = _by_hash(
            (_advisory_hash(advisory_id), _enriched(content, cves.split(), known_exploited, epss))
            for advisory_id, cves, content in store.advisory_contents()
        )
        return cls(MATCHING, packages, advisories)

    def encode(self) -> bytes:
        return msgspec.msgpack.encode((self.matching, self.packages, self.advisories))

    @classmethod
    def decode(cls, data: bytes) -> StoreState | None:
        """The state :meth:`encode` wrote; None if ``data`` is not one."""
        try:
            matching, packages, advisories = _state_decoder.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
        return cls(matching, packages, advisories)


def _enriched(content: int, cves: list[str], kev: set[str], epss: dict[str, float]) -> int:
    """An advisory's digest: its content and what the store adds to it (as
    :meth:`AdvisoryStore._advisory` does: known exploited, the highest EPSS score)."""
    exploited = any(cve in kev for cve in cves)
    score = max((epss[cve] for cve in cves if cve in epss), default=None)
    return zlib.crc32(f"{content} {exploited} {score}".encode())


def _by_hash(pairs: Iterable[tuple[int, int]]) -> dict[int, int]:
    """hash -> digest; the digests of keys sharing a hash are summed (order-free)."""
    found: dict[int, int] = {}
    for hashed, digest in pairs:
        found[hashed] = (found.get(hashed, 0) + digest) & _MASK
    return found


def changed_keys(old: StoreState, new: StoreState, store: AdvisoryStore) -> frozenset[int] | None:
    """The hashes of the keys whose rows differ between ``old`` and ``new`` (``store`` is
    the new store, whose changed advisories are read for the packages they name); None
    when the states cannot be compared (another :data:`MATCHING`)."""
    if old.matching != new.matching or new.matching != MATCHING:
        return None
    changed = _differing(old.packages, new.packages)
    advisories = _differing(old.advisories, new.advisories)
    if advisories:
        for advisory_id in store.advisory_ids():
            if _advisory_hash(advisory_id) not in advisories:
                continue
            advisory = store.raw_advisory(advisory_id)
            for entry in advisory.affected if advisory else ():
                changed.add(key_hash(package_key(entry.ecosystem, entry.package)))
    return frozenset(changed)


def _differing(old: dict[int, int], new: dict[int, int]) -> set[int]:
    return {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}
