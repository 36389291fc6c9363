"""Findings the user has ruled out: VEX documents (OpenVEX, CycloneDX VEX) and an ignore file.

A VEX statement that a product is ``not_affected`` or ``fixed`` (CycloneDX: ``not_affected``,
``false_positive``, ``resolved``) removes the matching finding. A statement names the
vulnerability by any of its ids or aliases, and the product by purl; a purl without a version
covers every version of that package.

The ignore file is YAML: a list under ``ignore:`` of ``{id, packages?, reason, expires?}``.
Every entry must give a reason; an entry past its ``expires`` date no longer applies and is
reported, so ignores cannot silently outlive their review.

Documents are parsed from their content (:func:`parse_vex`, :func:`parse_ignore_file`), so a
server can pass what was uploaded; :func:`load_vex` and :func:`load_ignore_file` read a file
first. The scan engine takes the resulting :class:`Suppression` statements, never paths.

Both are untrusted: regular files within the ``VEX`` and ``IGNORE`` caps, VEX decoded against
declared types (a bad envelope refuses the document, naming the field; a bad statement is a
warning in the report and is skipped), the ignore file through the safe YAML loader.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

import msgspec
from packageurl import PackageURL

from seawall.errors import InputError
from seawall.model import Vulnerability
from seawall.safety.files import read_regular
from seawall.safety.jsondoc import decode_json, decode_records
from seawall.safety.limits import max_bytes
from seawall.safety.yaml import read_yaml

_OPENVEX_SUPPRESS = frozenset(("not_affected", "fixed"))
_CYCLONEDX_SUPPRESS = frozenset(
    ("not_affected", "false_positive", "resolved", "resolved_with_pedigree")
)


class Suppression(msgspec.Struct, frozen=True, kw_only=True):
    """One statement that rules a vulnerability out for some packages (all, if none named)."""

    vulnerability: str
    products: tuple[str, ...] = ()  # purls or plain package names
    status: str
    reason: str = ""
    source: str = ""
    expires: str = ""


class _VexDocument(msgspec.Struct):
    """The envelope: OpenVEX ``statements`` or CycloneDX ``vulnerabilities``, each record
    kept raw and decoded on its own, so that one bad record is skipped, not the document."""

    statements: list[msgspec.Raw] | msgspec.UnsetType | None = msgspec.UNSET
    vulnerabilities: list[msgspec.Raw] | msgspec.UnsetType | None = msgspec.UNSET
    bomFormat: str | None = None


class _Named(msgspec.Struct):
    name: str | None = None
    id: str | None = msgspec.field(name="@id", default=None)


class _Product(msgspec.Struct):
    id: str | None = msgspec.field(name="@id", default=None)
    identifiers: dict[str, str] | None = None


class _Statement(msgspec.Struct):
    """An OpenVEX statement (the fields Seawall reads)."""

    vulnerability: str | _Named | None = None
    status: str = ""
    products: list[str | _Product] | None = None
    justification: str | None = None
    impact_statement: str | None = None


class _Analysis(msgspec.Struct):
    state: str = ""
    justification: str | None = None
    detail: str | None = None


class _Affects(msgspec.Struct):
    ref: str | None = None


class _CycloneDxVulnerability(msgspec.Struct):
    """A CycloneDX vulnerability with its analysis (the fields Seawall reads)."""

    id: str = ""
    analysis: _Analysis | None = None
    affects: list[_Affects] | None = None


def _checked(data: bytes | str, name: str, kind: str) -> bytes:
    """``data`` as UTF-8 bytes, refused when larger than the ``kind`` cap or not UTF-8."""
    limit = max_bytes(kind)
    if len(data) > limit:
        raise InputError(f"{name}: larger than {limit} bytes")
    if isinstance(data, str):
        return data.encode("utf-8", "surrogatepass")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{name}: not UTF-8 text") from None
    return data


def _product_id(product: str | _Product) -> str:
    if isinstance(product, str):
        return product
    return product.id or (product.identifiers or {}).get("purl") or ""


def _openvex(raws: list[msgspec.Raw], source: str) -> tuple[list[Suppression], list[str]]:
    found = []
    statements, warnings = decode_records(raws, _Statement, source, "statement")
    for statement in statements:
        vulnerability = statement.vulnerability
        if isinstance(vulnerability, _Named):
            vulnerability = vulnerability.name or vulnerability.id
        if statement.status not in _OPENVEX_SUPPRESS or not vulnerability:
            continue
        products = [p for p in map(_product_id, statement.products or ()) if p]
        found.append(
            Suppression(
                vulnerability=vulnerability,
                products=tuple(products),
                status=statement.status,
                reason=statement.justification or statement.impact_statement or "",
                source=source,
            )
        )
    return found, warnings


def _cyclonedx(raws: list[msgspec.Raw], source: str) -> tuple[list[Suppression], list[str]]:
    found = []
    records, warnings = decode_records(raws, _CycloneDxVulnerability, source, "vulnerability")
    for vulnerability in records:
        analysis = vulnerability.analysis or _Analysis()
        if analysis.state not in _CYCLONEDX_SUPPRESS or not vulnerability.id:
            continue
        refs = [a.ref for a in vulnerability.affects or () if a.ref]
        found.append(
            Suppression(
                vulnerability=vulnerability.id,
                products=tuple(refs),
                status=analysis.state,
                reason=analysis.justification or analysis.detail or "",
                source=source,
            )
        )
    return found, warnings


def parse_vex(data: bytes | str, name: str) -> tuple[list[Suppression], list[str]]:
    """The suppressing statements of an OpenVEX or CycloneDX VEX document, ``data``, and a
    warning for each statement that is malformed and skipped; ``name`` (a path, an upload's
    name) is their source in reports and errors. A bad envelope is an InputError."""
    document = decode_json(_checked(data, name, "VEX"), name, _VexDocument)
    if document.statements is not msgspec.UNSET:
        return _openvex(document.statements or [], name)
    if document.bomFormat == "CycloneDX" or document.vulnerabilities is not msgspec.UNSET:
        return _cyclonedx(document.vulnerabilities or [], name)
    raise InputError(
        f"{name}: neither OpenVEX nor CycloneDX VEX",
        hint="OpenVEX has 'statements'; CycloneDX has 'vulnerabilities'",
    )


def load_vex(path: Path) -> tuple[list[Suppression], list[str]]:
    """:func:`parse_vex` of the regular file at ``path``."""
    return parse_vex(read_regular(path, max_bytes("VEX")), str(path))


def parse_ignore_file(
    text: bytes | str, name: str, today: dt.date | None = None
) -> tuple[list[Suppression], list[str]]:
    """The active entries of the ignore file ``text``, and warnings for expired ones;
    ``name`` is their source in reports and errors."""
    documents = read_yaml(_checked(text, name, "IGNORE"), name)
    document = (documents[0] if documents else None) or {}
    entries = document.get("ignore") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise InputError(f"{name}: expected a list under 'ignore:'")
    today = today or dt.datetime.now(dt.UTC).date()
    active, warnings = [], []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not entry.get("id") or not entry.get("reason"):
            raise InputError(f"{name}: entry {number} needs an 'id' and a 'reason'")
        expires = str(entry.get("expires") or "")
        if expires:
            try:
                if dt.date.fromisoformat(expires) < today:
                    warnings.append(f"{name}: ignore of {entry['id']} expired on {expires}")
                    continue
            except ValueError:
                raise InputError(f"{name}: entry {number}: expires must be YYYY-MM-DD") from None
        packages = entry.get("packages") or []
        if not isinstance(packages, list):
            raise InputError(f"{name}: entry {number}: packages must be a list")
        active.append(
            Suppression(
                vulnerability=str(entry["id"]),
                products=tuple(str(p) for p in packages),
                status="ignored",
                reason=str(entry["reason"]),
                source=name,
                expires=expires,
            )
        )
    return active, warnings


def load_ignore_file(
    path: Path, today: dt.date | None = None
) -> tuple[list[Suppression], list[str]]:
    """:func:`parse_ignore_file` of the regular file at ``path``."""
    return parse_ignore_file(read_regular(path, max_bytes("IGNORE")), str(path), today)


def _purl_core(text: str) -> tuple[str, ...] | None:
    try:
        purl = PackageURL.from_string(text)
    except ValueError:
        return None
    return (purl.type, purl.namespace or "", purl.name.lower(), purl.version or "")


def _covers(product: str, vulnerability: Vulnerability) -> bool:
    package = vulnerability.package
    if not product.startswith("pkg:"):
        return product in (package.name, f"{package.name}@{package.version}")
    wanted, have = _purl_core(product), _purl_core(package.purl)
    if wanted is None or have is None:
        return False
    return wanted[:3] == have[:3] and wanted[3] in ("", have[3])


def applies(suppression: Suppression, vulnerability: Vulnerability) -> bool:
    """True if ``suppression`` rules ``vulnerability`` out."""
    ids = {vulnerability.advisory.id, *vulnerability.advisory.aliases}
    if suppression.vulnerability not in ids:
        return False
    return not suppression.products or any(_covers(p, vulnerability) for p in suppression.products)


def split(
    vulnerabilities: Sequence[Vulnerability], suppressions: Iterable[Suppression]
) -> tuple[list[Vulnerability], list[tuple[Vulnerability, Suppression]]]:
    """(still reported, suppressed with the statement that did it)."""
    rules = list(suppressions)
    kept, suppressed = [], []
    for vulnerability in vulnerabilities:
        rule = next((s for s in rules if applies(s, vulnerability)), None)
        if rule is None:
            kept.append(vulnerability)
        else:
            suppressed.append((vulnerability, rule))
    return kept, suppressed
