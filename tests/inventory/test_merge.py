"""Layer merging: shadowing, whiteouts, opaque directories, symlinks, origin layers."""

from __future__ import annotations

from seawall.inventory.analyzer import AnalyzerOutput
from seawall.inventory.layer import LayerResult
from seawall.inventory.merge import MergedImage, merge_layers
from seawall.model import Ecosystem, LayerInfo, Package


def layer(index: int, **fields: object) -> tuple[LayerInfo, LayerResult]:
    return LayerInfo(
        index=index, digest=f"sha256:{index:064x}", created_by=f"step {index}"
    ), LayerResult(**fields)  # type: ignore[arg-type]


def pypi(name: str, version: str, path: str) -> Package:
    return Package(ecosystem=Ecosystem.PYPI, name=name, version=version, path=path)


def test_resolve_follows_links_and_never_leaves_the_root() -> None:
    merged = MergedImage(
        [
            layer(
                0,
                entries=["lib", "etc/a", "etc/b", "x/up"],
                symlinks={
                    "lib": "usr/lib",
                    "etc/a": "b",
                    "etc/b": "/etc/a",
                    "x/up": "../../../../usr",
                },
            )
        ]
    )
    assert merged.resolve("lib/python3/x") == "usr/lib/python3/x"
    assert merged.resolve("etc/a") is None  # a loop
    assert merged.resolve("x/up/bin") == "usr/bin"  # '..' stops at the root


def test_whiteout_of_a_parent_directory_hides_files_below() -> None:
    path = "site/flask-2.0.dist-info/METADATA"
    out = AnalyzerOutput(packages=[pypi("flask", "2.0", path)])
    _, packages, _ = merge_layers(
        [
            layer(0, entries=[path], outputs={path: out}),
            layer(1, whiteouts=["site/flask-2.0.dist-info"]),
        ]
    )
    assert packages == []


def test_replacing_a_directory_with_a_file_hides_its_content() -> None:
    path = "app/pkg/METADATA"
    out = AnalyzerOutput(packages=[pypi("x", "1", path)])
    _, packages, _ = merge_layers(
        [
            layer(0, entries=[path], outputs={path: out}),
            layer(1, entries=["app/pkg"]),
        ]
    )
    assert packages == []


def test_package_is_credited_to_the_layer_that_first_declared_it() -> None:
    path = "var/lib/dpkg/status"
    old = Package(ecosystem=Ecosystem.DEB, name="libc6", version="1", path=path)
    new = Package(ecosystem=Ecosystem.DEB, name="curl", version="8", path=path)
    upgraded = Package(ecosystem=Ecosystem.DEB, name="libc6", version="2", path=path)
    _, packages, _ = merge_layers(
        [
            layer(0, entries=[path], outputs={path: AnalyzerOutput(packages=[old])}),
            layer(1, entries=[path], outputs={path: AnalyzerOutput(packages=[old, new])}),
            layer(2, entries=[path], outputs={path: AnalyzerOutput(packages=[upgraded, new])}),
        ]
    )
    origin = {(p.name, p.version): p.layer_created_by for p in packages}
    assert origin == {("libc6", "2"): "step 2", ("curl", "8"): "step 1"}


def test_lockfile_entries_installed_elsewhere_are_not_reported_twice() -> None:
    lock, installed = "app/package-lock.json", "app/node_modules/a/package.json"
    a = Package(ecosystem=Ecosystem.NPM, name="a", version="1.0.0", path=lock)
    b = Package(ecosystem=Ecosystem.NPM, name="b", version="2.0.0", path=lock)
    a_installed = Package(ecosystem=Ecosystem.NPM, name="a", version="1.0.0", path=installed)
    _, packages, _ = merge_layers(
        [
            layer(
                0,
                entries=[lock, installed],
                outputs={
                    lock: AnalyzerOutput(packages=[a, b]),
                    installed: AnalyzerOutput(packages=[a_installed]),
                },
            )
        ]
    )
    # b is in the lockfile but not in node_modules: npm did not install it (an optional
    # package of another platform); a lockfile of a project with no node_modules counts whole
    assert sorted((p.name, p.path) for p in packages) == [("a", installed)]
    source_only = "src/package-lock.json"
    c = Package(ecosystem=Ecosystem.NPM, name="c", version="3.0.0", path=source_only)
    _, packages, _ = merge_layers(
        [layer(0, entries=[source_only], outputs={source_only: AnalyzerOutput(packages=[c])})]
    )
    assert [(p.name, p.path) for p in packages] == [("c", source_only)]
