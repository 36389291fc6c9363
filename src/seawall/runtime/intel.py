"""Threat intelligence: IP addresses, networks and domains known to be bad, by category.

Lists come from plain text (one indicator per line, ``#`` comments), abuse.ch-style CSV
(Feodo Tracker, URLhaus, ThreatFox, SSLBL exports: the IP, URL or domain columns are found
from the header or the cell contents) and STIX 2.1 bundles (indicator patterns and
``ipv4-addr``/``ipv6-addr``/``domain-name``/``url`` objects). Matching is exact for
addresses, by network for CIDRs and by suffix for domains (``pool.evil.example`` matches
``evil.example``).

Files are read as regular files within the ``INTEL`` cap and their lines one at a time (never
as a list); a file of more than ``INTEL_INDICATORS`` indicators is refused.
"""

from __future__ import annotations

import csv
import ipaddress
import itertools
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

from seawall.errors import InputError
from seawall.safety.files import read_regular
from seawall.safety.jsondoc import decode_json
from seawall.safety.limits import max_bytes, max_count

_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_STIX_VALUE = re.compile(
    r"(ipv4-addr|ipv6-addr|domain-name|url|network-traffic:dst_ref\.value)\s*:\s*value\s*=\s*'((?:[^'\\]|\\.)*)'"
)
_CSV_COLUMNS = ("ip", "host", "domain", "url", "ioc", "dst")
_LINE = re.compile(r"[^\r\n]+")


class IpMatcher:
    """A set of addresses and networks; ``match`` says whether an address is in one."""

    def __init__(self) -> None:
        self._exact: set[int] = set()
        self._nets: dict[tuple[int, int], set[int]] = {}  # (version, prefix) -> network ints

    def __len__(self) -> int:
        return len(self._exact) + sum(len(v) for v in self._nets.values())

    def add(self, text: str) -> bool:
        """Add an address or CIDR; False when ``text`` is neither."""
        try:
            if "/" in text:
                net = ipaddress.ip_network(text.strip(), strict=False)
                self._nets.setdefault((net.version, net.prefixlen), set()).add(
                    int(net.network_address)
                )
            else:
                self._exact.add(_ip_key(ipaddress.ip_address(text.strip())))
        except ValueError:
            return False
        return True

    def match(self, text: str) -> bool:
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            return False
        if _ip_key(addr) in self._exact:
            return True
        value = int(addr)
        bits = addr.max_prefixlen
        for (version, prefix), nets in self._nets.items():
            if version == addr.version and (value >> (bits - prefix)) << (bits - prefix) in nets:
                return True
        return False


def _ip_key(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> int:
    # IPv4 and IPv6 integers overlap; keep them apart with a high bit for v6.
    return int(addr) | (1 << 129) if addr.version == 6 else int(addr)


class IntelSet:
    """One category of indicators (``tor``, ``malicious``, ``mining-pools``, ...)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ips = IpMatcher()
        self.domains: set[str] = set()

    def __len__(self) -> int:
        return len(self.ips) + len(self.domains)

    def add(self, indicator: str) -> bool:
        """Add an IP, CIDR, domain or URL (its host); False when it is none of these."""
        text = indicator.strip().strip('"').lower()
        if not text:
            return False
        if "://" in text:
            text = urlsplit(text).hostname or ""
        elif text.count(":") == 1 and "." in text:  # ip:port
            text = text.rsplit(":", 1)[0]
        if self.ips.add(text):
            return True
        text = text.rstrip(".")
        if _DOMAIN.match(text):
            self.domains.add(text)
            return True
        return False

    def match(self, value: str) -> bool:
        """True when ``value`` (an address, a host name or a URL) is in this set."""
        if not value:
            return False
        if self.ips.match(value):
            return True
        host = value.lower()
        if "://" in host:
            host = urlsplit(host).hostname or ""
        host = host.rstrip(".")
        while host:
            if host in self.domains:
                return True
            dot = host.find(".")
            if dot < 0:
                return False
            host = host[dot + 1 :]
        return False


class IntelDB:
    """Every loaded category by name; a category nobody loaded matches nothing."""

    def __init__(self) -> None:
        self.sets: dict[str, IntelSet] = {}

    def category(self, name: str) -> IntelSet:
        return self.sets.setdefault(name, IntelSet(name))

    def match(self, categories: Iterable[str], value: str) -> bool:
        return any(self.sets[c].match(value) for c in categories if c in self.sets)

    def load(self, category: str, path: Path) -> int:
        """Read ``path`` (text, CSV or STIX, detected) into ``category``; indicators added."""
        data = read_regular(path, max_bytes("INTEL"))
        return self.load_text(category, data.decode("utf-8", "replace"), str(path))

    def load_text(self, category: str, text: str, origin: str = "intel") -> int:
        target = self.category(category)
        before = len(target)
        stripped = text.lstrip()
        indicators: Iterable[str]
        if stripped.startswith("{"):
            indicators = stix_indicators(stripped, origin)
        elif _looks_like_csv(text):
            indicators = csv_indicators(text)
        else:
            indicators = plain_indicators(text)
        limit = max_count("INTEL_INDICATORS")
        for number, indicator in enumerate(indicators, 1):
            if number > limit:
                raise InputError(f"{origin}: more than {limit} indicators")
            target.add(indicator)
        return len(target) - before


def _lines(text: str) -> Iterator[str]:
    """The non-empty lines of ``text``, one at a time."""
    return (match.group() for match in _LINE.finditer(text))


def plain_indicators(text: str) -> Iterator[str]:
    """One indicator per line; ``#`` starts a comment; extra words after the first are ignored."""
    for line in _lines(text):
        word = line.split("#", 1)[0].strip().split()
        if word:
            yield word[0]


def _looks_like_csv(text: str) -> bool:
    for line in _lines(text):
        if line.strip() and not line.lstrip().startswith("#"):
            return line.count(",") >= 2
    return False


def csv_indicators(text: str) -> Iterator[str]:
    """Indicator cells of an abuse.ch-style CSV export.

    The header is the last ``#`` comment line before the data (abuse.ch) or the first row;
    columns named like ip/host/domain/url/ioc/dst are read. Without a usable header every
    cell that is an IP address or a URL is taken (never bare words: malware names such as
    ``win.emotet`` look like domains).
    """
    lines = _lines(text)
    header: list[str] = []
    first = ""
    for line in lines:
        if line.lstrip().startswith("#"):
            candidate = line.lstrip("# ").strip()
            if candidate.count(",") >= 2:
                header = next(csv.reader([candidate]))
        elif line.strip():
            first = line
            break
    data = (ln for ln in itertools.chain([first], lines) if ln.strip() and ln.lstrip()[:1] != "#")
    rows: Iterator[list[str]] = csv.reader(data)
    row = next(rows, None)
    if row is None:
        return
    if header or any(IntelSet("x").add(c) for c in row):
        rows = itertools.chain([row], rows)
    else:
        header = row
    wanted = [
        i for i, name in enumerate(header) if any(k in name.strip().lower() for k in _CSV_COLUMNS)
    ]
    probe = IpMatcher()
    for row in rows:
        if wanted:
            yield from (row[i] for i in wanted if i < len(row))
        else:
            yield from (c for c in row if "://" in c or probe.add(c.strip().strip('"')))


def stix_indicators(text: str, origin: str) -> list[str]:
    """Values of STIX 2.1 indicator patterns and cyber-observable objects in a bundle."""
    bundle: object = decode_json(text.encode("utf-8", "surrogatepass"), f"{origin} (STIX)")
    objects = bundle.get("objects") if isinstance(bundle, dict) else None
    if not isinstance(objects, list):
        raise InputError(f"{origin}: a STIX bundle needs an 'objects' list")
    out: list[str] = []
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        kind = obj.get("type")
        if kind == "indicator" and isinstance(obj.get("pattern"), str):
            if obj.get("revoked") is True:
                continue
            out.extend(m.group(2).replace("\\'", "'") for m in _STIX_VALUE.finditer(obj["pattern"]))
        elif kind in ("ipv4-addr", "ipv6-addr", "domain-name", "url") and isinstance(
            obj.get("value"), str
        ):
            out.append(obj["value"])
    return out
