"""The npm, Yarn and pnpm analyzers on files the real tools wrote (see SOURCES.md)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from seawall.inventory.analyzer import Analyzer, AnalyzerIndex
from seawall.inventory.analyzers.npm import (
    NpmLockAnalyzer,
    NpmPackageJsonAnalyzer,
    PnpmLockAnalyzer,
    YarnLockAnalyzer,
    split_spec,
)
from seawall.model import Ecosystem, Package

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inventory" / "npm"

# What every lockfile of app-package.json must contain (left-pad is the devDependency).
PRODUCTION = [
    ("@types/ms", "0.7.34"),
    ("debug", "4.3.4"),
    ("isarray", "2.0.5"),
    ("ms", "2.1.2"),
    ("ms", "2.1.3"),
]
# And of app-package-alias.json (old-ms is an alias of ms@2.0.0).
PRODUCTION_ALIAS = [
    ("js-tokens", "4.0.0"),
    ("loose-envify", "1.4.0"),
    ("ms", "2.0.0"),
    ("ms", "2.1.3"),
    ("react", "18.2.0"),
    ("use-sync-external-store", "1.2.0"),
]
DEV = [("left-pad", "1.3.0")]


def analyze(analyzer: Analyzer, fixture: str, path: str) -> list[Package]:
    return analyzer.analyze(path, io.BytesIO((FIXTURES / fixture).read_bytes())).packages


def names(packages: list[Package]) -> list[tuple[str, str]]:
    return sorted((p.name, p.version) for p in packages)


@pytest.mark.parametrize(
    ("fixture", "path", "expected"),
    [
        (
            "package-json/ms.json",
            "app/node_modules/ms/package.json",
            Package(
                ecosystem=Ecosystem.NPM,
                name="ms",
                version="2.1.3",
                path="app/node_modules/ms/package.json",
                licenses=("MIT",),
            ),
        ),
        (
            "package-json/types-ms.json",
            "app/node_modules/@types/ms/package.json",
            Package(
                ecosystem=Ecosystem.NPM,
                name="@types/ms",
                version="0.7.34",
                path="app/node_modules/@types/ms/package.json",
                licenses=("MIT",),
            ),
        ),
        (
            "package-json/debug-ms.json",
            "app/node_modules/debug/node_modules/ms/package.json",
            Package(
                ecosystem=Ecosystem.NPM,
                name="ms",
                version="2.1.2",
                path="app/node_modules/debug/node_modules/ms/package.json",
                licenses=("MIT",),
            ),
        ),
        (
            "package-json/debug.json",
            "usr/lib/node_modules/debug/package.json",
            Package(
                ecosystem=Ecosystem.NPM,
                name="debug",
                version="4.3.4",
                path="usr/lib/node_modules/debug/package.json",
                licenses=("MIT",),
            ),
        ),
        # The old "licenses" array of objects.
        (
            "package-json/json-schema.json",
            "app/node_modules/json-schema/package.json",
            Package(
                ecosystem=Ecosystem.NPM,
                name="json-schema",
                version="0.2.3",
                path="app/node_modules/json-schema/package.json",
                licenses=("AFLv2.1", "BSD"),
            ),
        ),
    ],
)
def test_installed_package_json(fixture: str, path: str, expected: Package) -> None:
    assert analyze(NpmPackageJsonAnalyzer(), fixture, path) == [expected]


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("app/node_modules/ms/package.json", True),
        ("node_modules/@types/ms/package.json", True),
        ("app/node_modules/.pnpm/ms@2.1.3/node_modules/ms/package.json", True),
        ("app/package.json", False),  # the application itself
        ("app/node_modules/ms/lib/package.json", False),
        ("app/node_modules/@types/package.json", False),
        ("app/node_modules/.bin/package.json", False),
        ("app/package-lock.json", True),
        ("app/node_modules/.package-lock.json", False),
        ("app/node_modules/foo/package-lock.json", False),
        ("app/yarn.lock", True),
        ("app/node_modules/foo/yarn.lock", False),
        ("app/pnpm-lock.yaml", True),
        ("node_modules/foo/pnpm-lock.yaml", False),
    ],
)
def test_file_selection(path: str, wanted: bool) -> None:
    index = AnalyzerIndex(
        [NpmPackageJsonAnalyzer(), NpmLockAnalyzer(), YarnLockAnalyzer(), PnpmLockAnalyzer()]
    )
    assert bool(index.candidates(path, executable=False)) is wanted


@pytest.mark.parametrize("version", [1, 2, 3])
def test_package_lock_leaves_out_dev_packages(version: int) -> None:
    packages = analyze(NpmLockAnalyzer(), f"package-lock-v{version}.json", "app/package-lock.json")
    assert names(packages) == PRODUCTION
    assert {p.path for p in packages} == {"app/package-lock.json"}
    # npm 7+ copies each package's licence into v2/v3 lockfiles; v1 has none.
    assert {p.licenses for p in packages} == ({()} if version == 1 else {("MIT",)})


def test_package_lock_alias_reports_the_real_name() -> None:
    packages = analyze(NpmLockAnalyzer(), "package-lock-v3-alias.json", "package-lock.json")
    assert names(packages) == PRODUCTION_ALIAS


def test_package_lock_v1_alias_and_git_versions() -> None:
    lock = (
        b'{"lockfileVersion": 1, "dependencies": {'
        b'"old-ms": {"version": "npm:ms@2.0.0"},'
        b'"x": {"version": "github:user/x#0123abc"},'
        b'"y": {"version": "file:../y"}}}'
    )
    packages = NpmLockAnalyzer().analyze("package-lock.json", io.BytesIO(lock)).packages
    assert names(packages) == [("ms", "2.0.0")]


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("yarn-v1.lock", sorted(PRODUCTION + DEV)),
        ("yarn-berry.lock", sorted(PRODUCTION + DEV)),
        ("yarn-v1-alias.lock", sorted(PRODUCTION_ALIAS + DEV)),
        ("yarn-berry-alias.lock", sorted(PRODUCTION_ALIAS + DEV)),
    ],
)
def test_yarn_lock_reports_every_registry_package(
    fixture: str, expected: list[tuple[str, str]]
) -> None:
    # yarn.lock does not record which packages are dev-only; the berry workspace entry
    # (seawall-fixture-app@workspace:.) is the project itself and is not reported.
    packages = analyze(YarnLockAnalyzer(), fixture, "srv/app/yarn.lock")
    assert names(packages) == expected
    assert {p.path for p in packages} == {"srv/app/yarn.lock"}


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("pnpm-lock-v5.yaml", PRODUCTION),
        ("pnpm-lock-v6.yaml", PRODUCTION),
        ("pnpm-lock-v9.yaml", PRODUCTION),
        ("pnpm-lock-v9-peers.yaml", PRODUCTION_ALIAS),
    ],
)
def test_pnpm_lock_leaves_out_dev_packages(fixture: str, expected: list[tuple[str, str]]) -> None:
    packages = analyze(PnpmLockAnalyzer(), fixture, "app/pnpm-lock.yaml")
    assert names(packages) == expected


def test_pnpm_lock_refuses_yaml_aliases() -> None:
    # A "billion laughs" document: refused before anything is expanded.
    bomb = ["lockfileVersion: '9.0'", "a: &a [x, x, x, x, x, x, x, x, x, x]"]
    bomb += [
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]" for i in range(9)
    ]
    bomb += ["packages: {'ms@2.1.3': *j}"]
    with pytest.raises(ValueError, match="aliases"):
        PnpmLockAnalyzer().analyze("pnpm-lock.yaml", io.BytesIO("\n".join(bomb).encode()))


def test_pnpm_lock_refuses_aliases_behind_merge_keys() -> None:
    doc = b"base: &b {x: 1}\npackages:\n  ms@2.1.3:\n    <<: *b\n"
    with pytest.raises(ValueError, match="aliases"):
        PnpmLockAnalyzer().analyze("pnpm-lock.yaml", io.BytesIO(doc))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("@types/ms@0.7.34", ("@types/ms", "0.7.34")),
        ("ms@^2.1.1", ("ms", "^2.1.1")),
        ("old-ms@npm:ms@2.0.0", ("ms", "2.0.0")),
        ("x@npm:@scope/y@^1", ("@scope/y", "^1")),
        ("@scope/only", ("@scope/only", "")),
    ],
)
def test_split_spec(spec: str, expected: tuple[str, str]) -> None:
    assert split_spec(spec) == expected
