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
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec
import yaml
from packageurl import PackageURL

from seawall.errors import InputError
from seawall.model import Vulnerability

MAX_FILE = 32 * 1024 * 1024
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


def _read(path: Path) -> bytes:
    """The content of ``path``, refused unread when larger than :data:`MAX_FILE`."""
    try:
        if path.stat().st_size > MAX_FILE:
            raise InputError(f"{path}: larger than {MAX_FILE} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None


def _text(data: bytes | str, name: str) -> str:
    """``data`` as text, refused when longer than :data:`MAX_FILE` (bytes, or characters
    for text) or not UTF-8."""
    if len(data) > MAX_FILE:
        raise InputError(f"{name}: larger than {MAX_FILE} bytes")
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{name}: not UTF-8 text") from None


def _vulnerability_name(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, dict):
        return str(raw.get("name") or raw.get("@id") or "")
    return ""


def _openvex(document: dict[str, Any], source: str) -> list[Suppression]:
    found = []
    for statement in document.get("statements") or []:
        if not isinstance(statement, dict):
            continue
        status = str(statement.get("status", ""))
        name = _vulnerability_name(statement.get("vulnerability"))
        if status not in _OPENVEX_SUPPRESS or not name:
            continue
        products = []
        for product in statement.get("products") or []:
            ident = product if isinstance(product, str) else None
            if isinstance(product, dict):
                ident = product.get("@id") or (product.get("identifiers") or {}).get("purl")
            if ident:
                products.append(str(ident))
        reason = str(statement.get("justification") or statement.get("impact_statement") or "")
        found.append(
            Suppression(
                vulnerability=name,
                products=tuple(products),
                status=status,
                reason=reason,
                source=source,
            )
        )
    return found


def _cyclonedx(document: dict[str, Any], source: str) -> list[Suppression]:
    found = []
    for vulnerability in document.get("vulnerabilities") or []:
        if not isinstance(vulnerability, dict):
            continue
        analysis = vulnerability.get("analysis") or {}
        state = str(analysis.get("state", "")) if isinstance(analysis, dict) else ""
        name = str(vulnerability.get("id", ""))
        if state not in _CYCLONEDX_SUPPRESS or not name:
            continue
        refs = [
            str(a.get("ref"))
            for a in vulnerability.get("affects") or []
            if isinstance(a, dict) and a.get("ref")
        ]
        reason = str(analysis.get("justification") or analysis.get("detail") or "")
        found.append(
            Suppression(
                vulnerability=name, products=tuple(refs), status=state, reason=reason, source=source
            )
        )
    return found


def parse_vex(data: bytes | str, name: str) -> list[Suppression]:
    """The suppressing statements of an OpenVEX or CycloneDX VEX document, ``data``;
    ``name`` (a path, an upload's name) is their source in reports and errors."""
    try:
        document = json.loads(_text(data, name))
    except ValueError as exc:
        raise InputError(f"{name}: not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InputError(f"{name}: not a VEX document")
    if "statements" in document:
        return _openvex(document, name)
    if document.get("bomFormat") == "CycloneDX" or "vulnerabilities" in document:
        return _cyclonedx(document, name)
    raise InputError(
        f"{name}: neither OpenVEX nor CycloneDX VEX",
        hint="OpenVEX has 'statements'; CycloneDX has 'vulnerabilities'",
    )


def load_vex(path: Path) -> list[Suppression]:
    """:func:`parse_vex` of the file at ``path``."""
    return parse_vex(_read(path), str(path))


def parse_ignore_file(
    text: bytes | str, name: str, today: dt.date | None = None
) -> tuple[list[Suppression], list[str]]:
    """The active entries of the ignore file ``text``, and warnings for expired ones;
    ``name`` is their source in reports and errors."""
    try:
        document = yaml.safe_load(_text(text, name)) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{name}: invalid YAML: {exc}") from None
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
    """:func:`parse_ignore_file` of the file at ``path``."""
    return parse_ignore_file(_read(path), str(path), today)


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
