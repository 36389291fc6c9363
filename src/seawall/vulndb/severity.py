"""How bad an advisory is: the distro's or ecosystem's own rating first, else CVSS.

Own ratings come as words: GHSA's ``database_specific.severity`` (``HIGH``, ``MODERATE``),
Ubuntu's ``{"type": "Ubuntu", "score": "medium"}`` severity entries and priorities, Debian's
``urgency`` (``low``, ``unimportant``, ``not yet assigned``), Red Hat's ``Important``. Words
that rate nothing (``not yet assigned``, ``untriaged``) are ignored. Without an own rating the
CVSS score computed from the vector decides: v4.0 first, then v3.x, then v2 (a malformed vector
falls through to the next); else the severity is UNKNOWN. The score and the vector are kept
either way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from seawall.model import Affected, Severity
from seawall.vulndb.cvss import rating, v2_base_score, v3_base_score
from seawall.vulndb.cvss4 import v4_score
from seawall.vulndb.osv import OsvAffected, OsvSeverity

_WORDS = {
    "critical": Severity.CRITICAL,
    "important": Severity.HIGH,
    "high": Severity.HIGH,
    "moderate": Severity.MEDIUM,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
    "negligible": Severity.LOW,
    "unimportant": Severity.LOW,
    "minor": Severity.LOW,
}
_RATING_KEYS = ("severity", "urgency", "priority")
_CVSS_TYPES = frozenset(("CVSS_V2", "CVSS_V3", "CVSS_V4"))


class Rated(msgspec.Struct, frozen=True):
    """An advisory's severity and the CVSS score and vector it keeps."""

    severity: Severity
    score: float | None
    vector: str


def word_rating(text: object) -> Severity | None:
    """``"HIGH"``, ``"Moderate"``, ``"low*"`` -> a Severity; None for anything else."""
    if not isinstance(text, str):
        return None
    return _WORDS.get(text.strip().rstrip("*").strip().lower())


def _from_fields(specific: Any) -> Severity | None:
    """A rating word under ``severity``/``urgency``/``priority`` of a ``*_specific`` object."""
    if not isinstance(specific, dict):
        return None
    for key in _RATING_KEYS:
        found = word_rating(specific.get(key))
        if found is not None:
            return found
    return None


def _from_entries(entries: Iterable[OsvSeverity]) -> Severity | None:
    """A rating word in a non-CVSS severity entry (``{"type": "Ubuntu", "score": "high"}``)."""
    for entry in entries:
        if entry.type not in _CVSS_TYPES:
            found = word_rating(entry.score)
            if found is not None:
                return found
    return None


def entry_rating(entry: OsvAffected) -> str:
    """The own rating of one affected entry, as a lower-case Severity name ('' if none)."""
    found = (
        _from_entries(entry.severity or ())
        or _from_fields(entry.ecosystem_specific)
        or _from_fields(entry.database_specific)
    )
    return found.name.lower() if found else ""


_SCORERS = (("CVSS_V4", v4_score), ("CVSS_V3", v3_base_score), ("CVSS_V2", v2_base_score))


def _cvss(entries: Sequence[OsvSeverity]) -> Rated:
    """The newest CVSS entry that scores: v4.0, else v3.x, else v2, with its own vector."""
    by_type = {e.type: e.score for e in entries if isinstance(e.score, str)}
    for kind, score_of in _SCORERS:
        vector = by_type.get(kind)
        if vector is None:
            continue
        try:
            score = score_of(vector)
        except ValueError:
            continue  # a malformed vector rates nothing; the record itself is still good
        return Rated(rating(score, v2=kind == "CVSS_V2"), score, vector)
    return Rated(Severity.UNKNOWN, None, by_type.get("CVSS_V4", ""))


def rate(
    entries: Sequence[OsvSeverity], database_specific: Any, affected: Sequence[Affected]
) -> Rated:
    """The advisory's severity: its own rating, else its entries' highest, else CVSS."""
    cvss = _cvss(entries)
    own = _from_entries(entries) or _from_fields(database_specific)
    if own is None:
        own = max((Severity.parse(a.severity) for a in affected if a.severity), default=None)
    if own is None:
        return cvss
    return Rated(own, cvss.score, cvss.vector)
