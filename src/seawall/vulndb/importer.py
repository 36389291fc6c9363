"""Build a new store from the old one plus new inputs: the one path every write takes.

``db import`` keeps every old advisory and adds the new ones (same id: the new one wins; a
withdrawn record removes it). ``db update`` drops the advisories filed under the ecosystems it
re-downloaded and adds their fresh archives. Malformed records are counted, the first few
reported by name, and skipped: one bad record never stops an import.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Iterable
from pathlib import Path

import msgspec

from seawall.errors import InputError
from seawall.safety.files import refuse_replacing
from seawall.vulndb.enrich import read_epss, read_kev
from seawall.vulndb.inputs import Item, Record, Skipped, Special, iter_path
from seawall.vulndb.osv import RecordError, decode
from seawall.vulndb.record import convert
from seawall.vulndb.store import AdvisoryStore, SourceInfo, StoreError, now_iso
from seawall.vulndb.writer import StoreBuilder, update_lock

MAX_EXAMPLES = 10
Progress = Callable[[int], None]


class ImportReport(msgspec.Struct, kw_only=True):
    """What one import or update did."""

    added: int = 0
    withdrawn: int = 0
    malformed: int = 0
    examples: list[str] = msgspec.field(default_factory=list)  # "name: reason", first few
    kev: int = 0
    epss: int = 0
    kept: int = 0  # advisories carried over from the previous store
    total: int = 0  # advisories in the new store
    unchanged: list[str] = msgspec.field(default_factory=list)  # sources not modified
    warnings: list[str] = msgspec.field(default_factory=list)

    def bad(self, name: str, reason: str) -> None:
        self.malformed += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"{name}: {reason}")


class Feeder:
    """Adds input items to a builder, counting what happened in a report."""

    def __init__(self, builder: StoreBuilder, report: ImportReport, progress: Progress | None):
        self.builder = builder
        self.report = report
        self.progress = progress

    def record(self, item: Record) -> None:
        try:
            parsed = convert(decode(item.data, item.name))
        except RecordError as exc:
            self.report.bad(item.name, str(exc))
            return
        if parsed is None:
            record_id = _withdrawn_id(item)
            if record_id:
                self.builder.withdraw(record_id)
            self.report.withdrawn += 1
            return
        self.builder.add(parsed.advisory, parsed.cves)
        self.report.added += 1
        if self.progress is not None and self.report.added % 1000 == 0:
            self.progress(self.report.added)

    def items(self, items: Iterable[Item]) -> int:
        """Feed every item; return the number of records seen."""
        seen = 0
        for item in items:
            if isinstance(item, Record):
                seen += 1
                self.record(item)
            elif isinstance(item, Skipped):
                seen += 1
                self.report.bad(item.name, item.reason)
            else:
                self.special(item)
        return seen

    def special(self, item: Special) -> None:
        path = item.path
        if item.kind == "kev":
            cves = read_kev(path)
            self.builder.kev(cves, replace=True)
            self.report.kev += len(cves)
            self.source("kev", "kev", path, len(cves))
        elif item.kind == "epss":
            rows, skipped = read_epss(path)
            self.builder.epss(rows, replace=True)
            self.report.epss += len(rows)
            if skipped:
                self.report.warnings.append(f"{path}: {skipped} EPSS lines skipped")
            self.source("epss", "epss", path, len(rows))
        else:
            self.bundle(path)

    def bundle(self, path: Path) -> None:
        """Every advisory, source and enrichment row of a bundle (an exported store). A
        bundle is input: one that is corrupt or hostile is an InputError (exit 2)."""
        try:
            with AdvisoryStore.open(path) as bundle:
                bundle.quick_check()
                self.report.added += copy_store(bundle, self.builder)
                kev, epss = bundle.enrichment()
        except StoreError as exc:
            detail = exc.message.removeprefix("advisory database ")
            raise InputError(f"bundle {detail}") from None
        self.report.kev += len(kev)
        self.report.epss += len(epss)

    def source(self, name: str, kind: str, path: Path, records: int) -> None:
        self.builder.source(
            SourceInfo(
                name=name, kind=kind, location=str(path), fetched_at=now_iso(), records=records
            )
        )


def _withdrawn_id(item: Record) -> str:
    try:
        return decode(item.data, item.name).id
    except RecordError:
        return ""


def copy_store(old: AdvisoryStore, builder: StoreBuilder, replaced: Collection[str] = ()) -> int:
    """Carry the advisories of ``old`` not filed under ``replaced``, its source rows (but
    those of the ``replaced`` downloads) and its enrichment into ``builder``; return the
    advisories kept. Rows are copied as they are when the dictionaries allow, else decoded
    and added again."""
    if builder.can_keep_from(old):
        kept = builder.keep_from(old, replaced)
    else:
        kept = 0
        same_dictionary = builder.dictionary == old.dictionary
        for advisory_id, source, cves, checksum, blob in old.rows():
            if source in replaced:
                continue
            advisory = old.decode(advisory_id, checksum, blob)
            encoded = (checksum, blob) if same_dictionary else None
            builder.add(advisory, cves.split(), encoded=encoded, source=source)
            kept += 1
    for info in old.sources():
        if info.kind != "osv" or info.name.removeprefix("osv:") not in replaced:
            builder.source(info)
    kev, epss = old.enrichment()
    builder.kev(kev)
    builder.epss(epss)
    return kept


def rebuild(
    target: Path,
    feed: Callable[[Feeder], None],
    *,
    replaced: Collection[str] = (),
    fresh: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Write a new store at ``target``: the old one's advisories (except those filed under
    ``replaced`` ecosystems; none if ``fresh``) plus what ``feed`` adds; swap it in."""
    refuse_replacing(target)
    report = ImportReport()
    with update_lock(target):
        old = None
        if target.exists() and not fresh:
            try:
                old = AdvisoryStore.open(target)
            except StoreError as exc:
                report.warnings.append(f"previous database ignored: {exc.message}")
        # Keep the old dictionary so its rows are copied without recompressing.
        dictionary = old.dictionary if old is not None and old.dictionary else None
        with StoreBuilder(target, dictionary) as builder, old or contextlib.nullcontext():
            if old is not None:
                report.kept = copy_store(old, builder, replaced)
            feed(Feeder(builder, report, progress))
            builder.commit()
            report.total = builder.count
    return report


def _refuse_unreadable(paths: list[Path], records: int, example: list[str]) -> None:
    """An import none of whose records could be read is refused as a whole (nothing is
    imported): it is not what the user meant to import. (Some bad records among good ones
    are reported and skipped.)"""
    if records == 1 and example:
        raise InputError(example[0])
    named = str(paths[0]) if len(paths) == 1 else f"{len(paths)} inputs"
    why = f"; the first: {example[0]}" if example else ""
    raise InputError(f"{named}: none of the {records} records could be read{why}")


def import_paths(
    target: Path,
    paths: Iterable[Path],
    *,
    kev: Path | None = None,
    epss: Path | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """``seawall db import``: add zips, directories, bundles and enrichment files."""
    inputs = list(paths)

    def feed(feeder: Feeder) -> None:
        records = 0
        for path in inputs:
            seen = feeder.items(iter_path(path))
            records += seen
            if seen:
                feeder.source(f"import:{path.resolve()}", "import", path, seen)
        for kind, extra in (("kev", kev), ("epss", epss)):
            if extra is not None:
                feeder.special(Special(kind, extra))
        if records and feeder.report.malformed == records:
            _refuse_unreadable(inputs, records, feeder.report.examples[:1])

    return rebuild(target, feed, progress=progress)
