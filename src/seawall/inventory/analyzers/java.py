"""Maven artifacts in Java archives (.jar, .war, .ear and friends), including nested ones.

Per archive, the identity comes from the best source available:

1. every ``META-INF/maven/<groupId>/<artifactId>/pom.properties`` (Maven writes one per
   artifact; shaded and fat jars carry one for each artifact folded in, and each is reported);
2. otherwise ``META-INF/MANIFEST.MF``: the version from ``Implementation-Version`` or
   ``Bundle-Version``, the groupId from ``Implementation-Vendor-Id``, the artifactId from a
   versioned file name (``commons-io-2.11.0.jar`` -> ``commons-io``), else from a one-word
   ``Implementation-Title``, else from the file name (``guice-jndi.jar``). OSGi symbolic
   names are not Maven coordinates and are not used, so without a vendor id the name is the
   bare artifactId;
3. otherwise the file name ``name-1.2.3.jar`` gives a bare artifactId and a version.

A bare artifactId (no ``group:``) cannot be matched to Maven advisories but still shows in the
inventory. Nothing is looked up on the network. A manifest's ``Bundle-License`` is reported
when it is an SPDX id or a well-known licence URL, for the manifest-derived package or for the
single pom.properties artifact of an ordinary (non-shaded) jar.

Archives inside the archive (``WEB-INF/lib/x.jar``, ``BOOT-INF/lib/x.jar``, ``lib/x.jar``,
modules of an ``.ear``) are opened recursively up to a fixed depth and reported with paths like
``app.war!/WEB-INF/lib/x.jar``. Zip bombs are bounded: members are read only up to fixed caps,
members with implausible compression ratios are skipped, and the total number of bytes
inflated per top-level file has a budget. Nested archives up to 64 MiB are opened in memory,
larger ones from a spooled temporary file.
"""

from __future__ import annotations

import re
import shutil
import struct
import tempfile
import zipfile
import zlib
from typing import IO, BinaryIO, ClassVar

from seawall.inventory.analyzer import Analyzer, AnalyzerOutput, MiB, register
from seawall.model import Ecosystem, Package

JAVA_EXTENSIONS = frozenset({".jar", ".war", ".ear", ".par", ".sar", ".hpi", ".jpi"})
MAX_DEPTH = 4
_MAX_TEXT = 1 * MiB  # pom.properties, MANIFEST.MF
_MAX_NESTED = 512 * MiB
_IN_MEMORY = 64 * MiB
_BUDGET = 1024 * MiB  # bytes inflated per top-level archive, nested ones included
_MAX_RATIO = 100  # uncompressed / compressed; nested jars are already compressed
_MAX_DIRECTORY = 32 * MiB  # central directory bytes (about 400,000 entries)
_MAX_ARCHIVES = 5000  # nested archives opened per top-level archive
_MAX_POMS = 2000  # pom.properties read per archive (big shaded jars have a few hundred)
# What a damaged or hostile nested archive can raise; it becomes a warning.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    ValueError,
    EOFError,
    NotImplementedError,
    RuntimeError,
    OSError,
    struct.error,
)

_PROPERTY = re.compile(r"((?:[^\\=:\s]|\\.)+)\s*[=:\s]\s*(.*)")
_POM_PROPERTIES = re.compile(r"META-INF/maven/([^/]+)/([^/]+)/pom\.properties")
_FILE_NAME = re.compile(r"(.+?)-(\d[\w.+~-]*)\.[A-Za-z]+")
_SPDX_ID = re.compile(r"[A-Za-z][A-Za-z0-9.+]*(?:-[A-Za-z0-9.+]+)+|MIT|ISC|Zlib|Unlicense")
_LICENSE_URLS = {
    "apache.org/licenses/license-2.0": "Apache-2.0",
    "opensource.org/licenses/apache-2.0": "Apache-2.0",
    "opensource.org/licenses/mit": "MIT",
    "opensource.org/licenses/mit-license": "MIT",
    "opensource.org/licenses/bsd-2-clause": "BSD-2-Clause",
    "opensource.org/licenses/bsd-3-clause": "BSD-3-Clause",
    "eclipse.org/legal/epl-v10": "EPL-1.0",
    "eclipse.org/legal/epl-2.0": "EPL-2.0",
    "eclipse.org/legal/epl-v20": "EPL-2.0",
    "mozilla.org/mpl/2.0": "MPL-2.0",
}


class _Budget:
    """Bytes that may still be inflated for one top-level archive."""

    def __init__(self, total: int) -> None:
        self.remaining = total

    def take(self, size: int) -> bool:
        """Reserve ``size`` bytes; False (and nothing reserved) if that would overspend."""
        if size > self.remaining:
            return False
        self.remaining -= size
        return True


def _suspicious(info: zipfile.ZipInfo) -> bool:
    """Whether a member's declared sizes look like a zip bomb."""
    return info.file_size > _MAX_RATIO * max(info.compress_size, 1) + 4096


def _read_text(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> str | None:
    """A small text member decoded as UTF-8 (lenient), or None if too large or over budget."""
    if info.file_size > _MAX_TEXT or _suspicious(info) or not budget.take(info.file_size):
        return None
    with zf.open(info) as member:
        return member.read(_MAX_TEXT).decode("utf-8", "replace")


def parse_properties(text: str) -> dict[str, str]:
    """Keys and values of a Java properties file (``key=value`` / ``key: value`` lines).

    Enough for what Maven writes: comments, ``=``/``:``/space separators, line continuations
    are honoured; unicode escapes are not needed for coordinates and are left as written.
    """
    result: dict[str, str] = {}
    parts: list[str] = []  # pieces of a logical line continued with a trailing backslash
    for raw in text.splitlines():
        piece = raw.lstrip()
        if piece.endswith("\\") and not piece.endswith("\\\\"):
            parts.append(piece[:-1])
            continue
        parts.append(piece)
        line = "".join(parts).rstrip()
        parts.clear()
        if not line or line[0] in "#!":
            continue
        match = _PROPERTY.match(line)
        if match:
            result[match.group(1).replace("\\", "")] = match.group(2).strip()
    return result


def parse_manifest(text: str) -> dict[str, str]:
    """The main section of a JAR manifest: ``Name: value`` with continuation lines joined."""
    values: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if not line:
            break  # the main section ends at the first blank line
        if line.startswith(" ") and current is not None:
            current.append(line[1:])
        elif ":" in line:
            key, _, value = line.partition(":")
            current = values[key.strip()] = [value.lstrip()]
    return {key: "".join(parts).strip() for key, parts in values.items()}


def manifest_licenses(manifest: dict[str, str]) -> tuple[str, ...]:
    """SPDX ids from ``Bundle-License``: ids as written, well-known URLs mapped, rest dropped."""
    found: list[str] = []
    for clause in manifest.get("Bundle-License", "").split(","):
        value = clause.split(";", 1)[0].strip()
        url = re.sub(r"^https?://(www\.)?", "", value).lower().rstrip("/")
        url = re.sub(r"\.(txt|html?|php)$", "", url)
        spdx = _LICENSE_URLS.get(url) or (value if _SPDX_ID.fullmatch(value) else None)
        if spdx and spdx not in found:
            found.append(spdx)
    return tuple(found)


def split_file_name(file_name: str) -> tuple[str, str]:
    """(artifactId, version) from ``dir/name-1.2.3.jar``; ("name", "") for ``name.jar``."""
    base = file_name.rpartition("/")[2]
    match = _FILE_NAME.fullmatch(base)
    if match:
        return match.group(1), match.group(2)
    return base.rpartition(".")[0] or base, ""


def central_directory_size(data: IO[bytes]) -> int:
    """The size the end-of-central-directory record declares for the central directory.

    ``zipfile`` builds an object per entry before anything can be checked, so the declared
    size (zip64 included) is checked first to bound that memory. Returns 0 if no record is
    found (``zipfile`` then raises its own error).
    """
    end = data.seek(0, 2)
    tail_start = max(0, end - 65557)  # 22-byte record + at most 65535 bytes of comment
    data.seek(tail_start)
    tail = data.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return 0
    (size,) = struct.unpack_from("<I", tail, at + 12)
    if size != 0xFFFFFFFF or at < 20 or tail[at - 20 : at - 16] != b"PK\x06\x07":
        return int(size)
    (zip64_at,) = struct.unpack_from("<Q", tail, at - 12)
    data.seek(zip64_at)
    record = data.read(56)
    if len(record) < 56 or not record.startswith(b"PK\x06\x06"):
        return 0
    return int(struct.unpack_from("<Q", record, 40)[0])


def open_zip(data: IO[bytes]) -> zipfile.ZipFile:
    """Open a zip archive whose central directory is of a sane size; ValueError otherwise."""
    if central_directory_size(data) > _MAX_DIRECTORY:
        raise ValueError("zip central directory too large")
    data.seek(0)
    return zipfile.ZipFile(data)


def _normal(name: str) -> str:
    """An artifact name folded for loose comparison (``Foo_1.3`` ~ ``foo-1.3``)."""
    return name.lower().replace("_", "-")


def _is_archive(name: str) -> bool:
    dot = name.rfind(".")
    return dot > name.rfind("/") and name[dot:].lower() in JAVA_EXTENSIONS


class _Walker:
    """Walks one top-level archive and its nested archives, collecting packages."""

    def __init__(self, output: AnalyzerOutput) -> None:
        self.output = output
        self.budget = _Budget(_BUDGET)
        self.archives_left = _MAX_ARCHIVES

    def walk(self, zf: zipfile.ZipFile, path: str, depth: int) -> None:
        """Report the artifacts of ``zf`` (shown as ``path``) and of archives nested in it."""
        infos = zf.infolist()
        self._identify(zf, infos, path)
        for info in infos:
            # an empty member name is malformed (ZipInfo.is_dir would raise on it)
            if not info.filename or info.is_dir() or not _is_archive(info.filename):
                continue
            inner_path = f"{path}!/{info.filename}"
            if depth >= MAX_DEPTH:
                self.output.warnings.append(f"{inner_path}: archives nested too deep, skipped")
                continue
            self._walk_nested(zf, info, inner_path, depth + 1)

    def _walk_nested(
        self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: str, depth: int
    ) -> None:
        if info.file_size > _MAX_NESTED or _suspicious(info):
            self.output.warnings.append(f"{path}: implausible size or ratio, skipped")
            return
        if self.archives_left <= 0 or not self.budget.take(info.file_size):
            self.output.warnings.append(f"{path}: decompression budget exhausted, skipped")
            return
        self.archives_left -= 1
        with tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY) as buffer:
            try:
                with zf.open(info) as member:
                    shutil.copyfileobj(member, buffer)
                with open_zip(buffer) as inner:
                    self.walk(inner, path, depth)
            except _ZIP_ERRORS as exc:
                self.output.warnings.append(f"{path}: unreadable nested archive: {exc}")

    def _identify(self, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], path: str) -> None:
        """Add the packages of one archive from pom.properties, its manifest or its name."""
        manifest_info: zipfile.ZipInfo | None = None
        poms: list[tuple[zipfile.ZipInfo, re.Match[str]]] = []
        for info in infos:
            match = _POM_PROPERTIES.fullmatch(info.filename)
            if match and len(poms) < _MAX_POMS:
                poms.append((info, match))
            elif manifest_info is None and info.filename.upper() == "META-INF/MANIFEST.MF":
                manifest_info = info
        manifest: dict[str, str] = {}
        if manifest_info is not None:
            manifest = parse_manifest(_read_text(zf, manifest_info, self.budget) or "")
        licenses = manifest_licenses(manifest)
        found: list[tuple[str, str, str]] = []  # groupId, artifactId, version
        for info, match in poms:
            props = parse_properties(_read_text(zf, info, self.budget) or "")
            version = props.get("version", "")
            if version:
                group = props.get("groupId") or match.group(1)
                found.append((group, props.get("artifactId") or match.group(2), version))
        file_artifact, file_version = split_file_name(path)
        own = self._from_manifest(manifest, file_artifact, bool(file_version))
        if found:
            # A shaded jar may carry only the pom.properties of what it absorbed (Debian's
            # guice.jar holds cglib's): then the manifest still names the jar itself. The
            # jar's own pom.properties is recognised by its artifactId (file name, title) or
            # by the manifest version (Debian renames jars: maven3-core.jar).
            stem = _normal(path.rpartition("/")[2].rpartition(".")[0])
            title = _normal(manifest.get("Implementation-Title", ""))
            if own and not any(
                v == own[1] or stem.startswith(_normal(a)) or _normal(a) == title
                for _, a, v in found
            ):
                self._add([own], path, licenses)
                licenses = ()
            pom_licenses = licenses if len(found) == 1 else ()
            self._add([(f"{g}:{a}", v) for g, a, v in found], path, pom_licenses)
        elif own:
            self._add([own], path, licenses)
        elif file_artifact and file_version:
            self._add([(file_artifact, file_version)], path, ())

    @staticmethod
    def _from_manifest(
        manifest: dict[str, str], file_artifact: str, versioned: bool
    ) -> tuple[str, str] | None:
        """(name, version) from a manifest's version and vendor id, or None without a version.

        The artifactId is the file name's when it carries a version (as Maven names what it
        builds), else ``Implementation-Title`` if it is a single word, else the file name of
        the renamed jar (``guice-jndi.jar``, ``app.jar``).
        """
        version = manifest.get("Implementation-Version") or manifest.get("Bundle-Version", "")
        if not version:
            return None
        title = manifest.get("Implementation-Title", "")
        artifact = file_artifact if versioned or not title or " " in title else title
        if not artifact:
            return None
        group = manifest.get("Implementation-Vendor-Id", "")
        return (f"{group}:{artifact}" if group else artifact, version)

    def _add(self, found: list[tuple[str, str]], path: str, licenses: tuple[str, ...]) -> None:
        for name, version in found:
            self.output.packages.append(
                Package(
                    ecosystem=Ecosystem.MAVEN,
                    name=name,
                    version=version,
                    path=path,
                    licenses=licenses,
                )
            )


@register
class JavaArchiveAnalyzer(Analyzer):
    """Maven artifacts in JAR, WAR, EAR and similar archives, nested archives included."""

    name: ClassVar[str] = "java-archive"
    max_size: ClassVar[int] = 1024 * MiB
    extensions: ClassVar[frozenset[str]] = JAVA_EXTENSIONS

    def analyze(self, path: str, data: BinaryIO) -> AnalyzerOutput:
        """Report the artifacts of the archive at ``path``; ValueError if it is not a zip."""
        output = AnalyzerOutput()
        try:
            with open_zip(data) as zf:
                _Walker(output).walk(zf, path, 0)
        except _ZIP_ERRORS as exc:
            raise ValueError(f"unreadable Java archive: {exc}") from None
        return output
