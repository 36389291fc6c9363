"""``seawall db update``: fetch OSV's per-ecosystem ``all.zip`` archives that changed.

Each archive is fetched with ``If-None-Match``/``If-Modified-Since`` from the ETag and
Last-Modified of the previous download (kept in the store's ``sources`` table); a 304 means
nothing is downloaded. The base may be an HTTP(S) URL (OSV's bucket or a mirror), a
``file://`` URL or a local directory laid out the same way (``<base>/<Ecosystem>/all.zip``),
where the file's size and modification time stand in for an ETag. All downloads finish (into
a private temp directory) before the store is touched: a failed or truncated download, or a
corrupt archive, leaves the old store as it was.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Sequence
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import msgspec

from seawall.errors import EnvironmentFailure, InputError
from seawall.vulndb.importer import Feeder, ImportReport, Progress, rebuild
from seawall.vulndb.inputs import iter_zip
from seawall.vulndb.keys import OSV_ECOSYSTEMS
from seawall.vulndb.store import AdvisoryStore, SourceInfo, StoreError, now_iso

DEFAULT_BASE = "https://osv-vulnerabilities.storage.googleapis.com"
MAX_ARCHIVE_BYTES = 8 * 1024**3
TIMEOUT = 60.0
_CHUNK = 1 << 20


class Fetched(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of one conditional fetch; ``path`` is None when not modified."""

    ecosystem: str
    location: str
    path: Path | None
    etag: str = ""
    last_modified: str = ""


def archive_location(base: str, ecosystem: str) -> str:
    """``<base>/<Ecosystem>/all.zip`` (URL-quoted for HTTP: ``Red%20Hat``)."""
    if base.startswith(("http://", "https://")):
        return f"{base.rstrip('/')}/{quote(ecosystem)}/all.zip"
    root = Path(unquote(urlsplit(base).path)) if base.startswith("file://") else Path(base)
    return str(root / ecosystem / "all.zip")


def _fetch_file(ecosystem: str, location: str, previous: SourceInfo | None) -> Fetched:
    path = Path(location)
    try:
        stat = path.stat()
    except OSError as exc:
        raise EnvironmentFailure(f"cannot read {location}: {exc.strerror}") from None
    etag = f"{stat.st_size}-{stat.st_mtime_ns}"
    if previous is not None and previous.etag == etag:
        return Fetched(ecosystem=ecosystem, location=location, path=None, etag=etag)
    return Fetched(
        ecosystem=ecosystem,
        location=location,
        path=path,
        etag=etag,
        last_modified=formatdate(stat.st_mtime, usegmt=True),
    )


def _fetch_http(ecosystem: str, url: str, previous: SourceInfo | None, workdir: Path) -> Fetched:
    import httpx

    headers = {"User-Agent": "seawall"}
    if previous is not None and previous.etag:
        headers["If-None-Match"] = previous.etag
    if previous is not None and previous.last_modified:
        headers["If-Modified-Since"] = previous.last_modified
    dest = workdir / f"{ecosystem}.zip"
    failure = f"downloading {url} failed"
    try:
        with httpx.stream(
            "GET", url, headers=headers, timeout=TIMEOUT, follow_redirects=True
        ) as response:
            if response.status_code == 304:
                return Fetched(
                    ecosystem=ecosystem,
                    location=url,
                    path=None,
                    etag=previous.etag if previous else "",
                    last_modified=previous.last_modified if previous else "",
                )
            if response.status_code != 200:
                raise EnvironmentFailure(f"{failure}: HTTP {response.status_code}")
            written = 0
            with dest.open("wb") as out:
                for chunk in response.iter_bytes(_CHUNK):
                    written += len(chunk)
                    if written > MAX_ARCHIVE_BYTES:
                        raise InputError(f"{url}: larger than {MAX_ARCHIVE_BYTES} bytes")
                    out.write(chunk)
            expected = response.headers.get("Content-Length")
            if expected is not None and expected.isdigit() and int(expected) != written:
                raise EnvironmentFailure(f"{failure}: got {written} of {expected} bytes")
            return Fetched(
                ecosystem=ecosystem,
                location=url,
                path=dest,
                etag=response.headers.get("ETag", ""),
                last_modified=response.headers.get("Last-Modified", ""),
            )
    except httpx.HTTPError as exc:
        raise EnvironmentFailure(f"{failure}: {exc}", hint="the old database is kept") from None


def fetch(base: str, ecosystem: str, previous: SourceInfo | None, workdir: Path) -> Fetched:
    """Fetch one archive unless unchanged since ``previous``; check it is a readable zip."""
    location = archive_location(base, ecosystem)
    if location.startswith(("http://", "https://")):
        fetched = _fetch_http(ecosystem, location, previous, workdir)
    else:
        fetched = _fetch_file(ecosystem, location, previous)
    if fetched.path is not None:
        try:
            with zipfile.ZipFile(fetched.path) as archive:
                archive.infolist()
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(
                f"{location}: corrupt archive ({exc})",
                hint="the old database is kept; try again later",
            ) from None
    return fetched


def _previous_sources(target: Path) -> dict[str, SourceInfo]:
    if not target.exists():
        return {}
    try:
        with AdvisoryStore.open(target) as store:
            return {s.name: s for s in store.sources()}
    except StoreError:
        return {}  # rebuilt from scratch by rebuild(), which reports it


def update(
    target: Path,
    *,
    base: str = DEFAULT_BASE,
    ecosystems: Sequence[str] = OSV_ECOSYSTEMS,
    progress: Progress | None = None,
) -> ImportReport:
    """Fetch the archives of ``ecosystems`` that changed and rebuild the store with them.

    If the old store turns out corrupt while being copied, start again from scratch: every
    archive downloaded in full, nothing carried over."""
    try:
        return _update(target, base, ecosystems, _previous_sources(target), progress)
    except StoreError as exc:
        report = _update(target, base, ecosystems, None, progress)
        report.warnings.append(f"previous database discarded: {exc.message}")
        return report


def _update(
    target: Path,
    base: str,
    ecosystems: Sequence[str],
    previous: dict[str, SourceInfo] | None,
    progress: Progress | None,
) -> ImportReport:
    """One update; ``previous`` None means: ignore the old store entirely."""
    known = previous or {}
    with tempfile.TemporaryDirectory(prefix="seawall-dl-") as tmp:
        fetched = [fetch(base, eco, known.get(f"osv:{eco}"), Path(tmp)) for eco in ecosystems]
        changed = [f for f in fetched if f.path is not None]
        if not changed:
            return ImportReport(unchanged=[f.ecosystem for f in fetched])

        def feed(feeder: Feeder) -> None:
            for item in changed:
                assert item.path is not None
                seen = feeder.items(iter_zip(item.path))
                feeder.builder.source(
                    SourceInfo(
                        name=f"osv:{item.ecosystem}",
                        kind="osv",
                        location=item.location,
                        etag=item.etag,
                        last_modified=item.last_modified,
                        fetched_at=now_iso(),
                        records=seen,
                    )
                )

        report = rebuild(
            target,
            feed,
            replaced={f.ecosystem for f in changed},
            fresh=previous is None,
            progress=progress,
        )
    report.unchanged = [f.ecosystem for f in fetched if f.path is None]
    return report
