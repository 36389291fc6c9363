"""How fast each version scheme turns real version strings into sort keys.

Prints, per scheme, on the real version strings of tests/fixtures/versions: distinct strings,
keys per second with a cold cache (every string parsed), keys per second from the cache, and
the time to sort them all by key. Exits 0 whatever the figures; it never fails a suite.

    .venv/bin/python bench/version_keys.py
"""

from __future__ import annotations

import time
from pathlib import Path

from seawall.vulndb.versions import InvalidVersion, scheme_for

CORPORA = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "versions"
ROUNDS = 5

# ecosystem -> corpus files whose strings it reads (real strings; other schemes borrow).
RUNS = {
    "Debian": ["debian"],
    "Red Hat": ["rpm", "debian"],
    "Alpine": ["alpine"],
    "PyPI": ["pypi"],
    "npm": ["npm", "go"],
    "crates.io": ["crates"],
    "Go": ["go"],
    "NuGet": ["npm", "go"],
    "Packagist": ["packagist", "npm", "go"],
    "Maven": ["maven", "go", "npm"],
    "RubyGems": ["rubygems", "pypi"],
}


def _strings(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        out += (CORPORA / f"{name}.txt").read_text().splitlines()
    return list(dict.fromkeys(out))


def _measure(ecosystem: str, names: list[str]) -> tuple[int, float, float, float]:
    scheme = scheme_for(ecosystem)
    key = scheme.key
    versions = []
    for v in _strings(names):
        try:
            key(v)
        except InvalidVersion:
            continue
        versions.append(v)
    cold = warm = sort = float("inf")
    for _ in range(ROUNDS):
        key.cache_clear()  # type: ignore[attr-defined]
        start = time.perf_counter()
        for v in versions:
            key(v)
        cold = min(cold, time.perf_counter() - start)
        start = time.perf_counter()
        for v in versions:
            key(v)
        warm = min(warm, time.perf_counter() - start)
        start = time.perf_counter()
        sorted(versions, key=key)
        sort = min(sort, time.perf_counter() - start)
    n = len(versions)
    return n, n / cold, n / warm, sort


def main() -> None:
    print(f"{'scheme':<12} {'strings':>7} {'keys/s cold':>12} {'keys/s cached':>14} {'sort ms':>8}")
    for ecosystem, names in RUNS.items():
        n, cold, warm, sort = _measure(ecosystem, names)
        name = scheme_for(ecosystem).name
        print(f"{name:<12} {n:>7} {cold:>12,.0f} {warm:>14,.0f} {sort * 1000:>8.1f}")


if __name__ == "__main__":
    main()
