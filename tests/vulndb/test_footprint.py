"""Footprints and store states: an inventory the update did not touch matches the same with
the new store (checked on random stores and updates), and each kind of change is seen."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawall.model import Ecosystem, ImageInfo, Inventory, OSInfo, Package
from seawall.vulndb.footprint import (
    StoreState,
    changed_keys,
    footprint,
    touched,
    touched_names,
)
from seawall.vulndb.importer import import_paths
from seawall.vulndb.match import Matcher
from seawall.vulndb.store import AdvisoryStore
from tests.vulndb.conftest import osv, write_zip

PYPI = ("alpha", "Beta_Pkg", "gamma", "delta")
DEBIAN = ("openssl", "zlib", "curl")
DEBIAN_12 = OSInfo(id="debian", version_id="12.5", name="Debian GNU/Linux 12 (bookworm)")


def build(
    directory: Path, name: str, records: list[dict[str, Any]], epss: dict[str, float]
) -> Path:
    """A store imported from ``records`` (and EPSS scores), as ``seawall db import`` does."""
    archive = write_zip(directory / f"{name}.zip", {f"{r['id']}.json": r for r in records})
    inputs = [archive]
    if epss:
        scores = directory / f"epss_scores-{name}.csv"
        scores.write_text(
            "cve,epss,percentile\n" + "".join(f"{c},{s},0.5\n" for c, s in epss.items())
        )
        inputs.append(scores)
    db = directory / f"{name}.db"
    import_paths(db, inputs)
    return db


def inventory(packages: list[tuple[str, str, str]]) -> Inventory:
    """An image of (ecosystem, name, version) packages on Debian 12."""
    return Inventory(
        image=ImageInfo(reference="example:1", source="docker-archive"),
        distro=DEBIAN_12,
        packages=tuple(
            Package(
                ecosystem=Ecosystem.PYPI if kind == "PyPI" else Ecosystem.DEB,
                name=name,
                version=version,
                path="x",
                source_name="" if kind == "PyPI" else name,
            )
            for kind, name, version in packages
        ),
    )


def record(index: int, kind: str, package: str, fixed: str, summary: str) -> dict[str, Any]:
    ecosystem = "PyPI" if kind == "PyPI" else "Debian:12"
    return osv(f"ADV-{index}", ecosystem, package, fixed=fixed, summary=summary,
               aliases=[f"CVE-2026-{1000 + index}"])  # fmt: skip


package_choice = st.one_of(
    st.tuples(st.just("PyPI"), st.sampled_from(PYPI)),
    st.tuples(st.just("Debian"), st.sampled_from(DEBIAN)),
)
versions = st.sampled_from(("1.0", "1.5", "2.0", "2.5", "3.0"))
advisories = st.lists(
    st.tuples(package_choice, versions, st.sampled_from(("a", "b"))), min_size=1, max_size=8
)
change = st.sampled_from(("same", "fixed", "summary", "drop", "epss"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=advisories,
    changes=st.lists(change, min_size=8, max_size=8),
    added=st.lists(st.tuples(package_choice, versions), max_size=2),
    images=st.lists(st.lists(st.tuples(package_choice, versions), max_size=5), min_size=1,
                    max_size=4),
)  # fmt: skip
def test_what_an_update_did_not_touch_matches_the_same_with_the_new_store(
    before: list[Any], changes: list[str], added: list[Any], images: list[Any]
) -> None:
    old_records, new_records = [], []
    old_epss: dict[str, float] = {}
    new_epss: dict[str, float] = {}
    for index, (((kind, name), fixed, summary), what) in enumerate(
        zip(before, changes, strict=False)
    ):
        old_records.append(record(index, kind, name, fixed, summary))
        old_epss[f"CVE-2026-{1000 + index}"] = 0.1
        new_epss[f"CVE-2026-{1000 + index}"] = 0.9 if what == "epss" else 0.1
        if what == "drop":
            continue
        new_fixed = "9.0" if what == "fixed" else fixed
        new_summary = summary + "!" if what == "summary" else summary
        new_records.append(record(index, kind, name, new_fixed, new_summary))
    for offset, ((kind, name), fixed) in enumerate(added):
        new_records.append(record(100 + offset, kind, name, fixed, "new"))
    with tempfile.TemporaryDirectory() as directory:
        old_db = build(Path(directory), "old", old_records, old_epss)
        new_db = build(Path(directory), "new", new_records, new_epss)
        with AdvisoryStore.open(old_db) as old, AdvisoryStore.open(new_db) as new:
            changed = changed_keys(StoreState.of(old), StoreState.of(new), new)
            assert changed is not None
            for packages in images:
                image = inventory([(kind, name, version) for (kind, name), version in packages])
                before, after = Matcher(old).match(image), Matcher(new).match(image)
                if not touched(footprint(image), changed):
                    assert before == after
                # matched in part: the touched names alone give their findings, and the
                # findings of every other package are the ones matched before
                names = touched_names(image, changed)
                part = msgspec.structs.replace(
                    image, packages=tuple(p for p in image.packages if p.name in names)
                )
                assert Matcher(new).match(part) == [v for v in after if v.package.name in names]
                assert [v for v in after if v.package.name not in names] == [
                    v for v in before if v.package.name not in names
                ]


def states(
    tmp_path: Path,
    old: list[dict[str, Any]],
    new: list[dict[str, Any]],
    old_epss: dict[str, float] | None = None,
    new_epss: dict[str, float] | None = None,
) -> tuple[AdvisoryStore, frozenset[int]]:
    """The new store (open) and the keys changed from ``old`` to ``new``."""  # fmt: skip
    before = AdvisoryStore.open(build(tmp_path, "old", old, old_epss or {}))
    after = AdvisoryStore.open(build(tmp_path, "new", new, new_epss or {}))
    changed = changed_keys(StoreState.of(before), StoreState.of(after), after)
    before.close()
    assert changed is not None
    return after, changed


def image_of(name: str) -> bytes:
    return footprint(inventory([("PyPI", name, "1.0")]))


def test_each_kind_of_change_touches_the_package_and_only_it(tmp_path: Path) -> None:
    base = [record(1, "PyPI", "alpha", "2.0", "a"), record(2, "PyPI", "gamma", "2.0", "g")]
    cases = {
        "nothing": (base, {}, set()),
        "a fix published": ([record(1, "PyPI", "alpha", "1.5", "a"), base[1]], {}, {"alpha"}),
        "the text revised": ([record(1, "PyPI", "alpha", "2.0", "a!"), base[1]], {}, {"alpha"}),
        "a new advisory": ([*base, record(3, "PyPI", "delta", "2.0", "d")], {}, {"delta"}),
        "an advisory withdrawn": ([base[1]], {}, {"alpha"}),
        "an EPSS score": (base, {"CVE-2026-1002": 0.5}, {"gamma"}),
    }
    for case, (records, epss, expected) in cases.items():
        directory = tmp_path / case.replace(" ", "-")
        directory.mkdir()
        store, changed = states(directory, base, records, {}, epss)
        store.close()
        seen = {name for name in PYPI if touched(image_of(name), changed)}
        assert seen == expected, case


def test_the_same_advisories_imported_again_change_nothing(tmp_path: Path) -> None:
    """A fresh import trains its own zstd dictionary: states compare content, not bytes."""
    records = [record(i, "PyPI", PYPI[i % 4], "2.0", "x" * (i % 7)) for i in range(600)]
    store, changed = states(tmp_path, records, list(reversed(records)))
    assert store.dictionary  # enough records for a trained dictionary
    store.close()
    assert changed == frozenset()


def test_a_state_or_footprint_that_is_not_one_is_never_trusted(tmp_path: Path) -> None:
    assert StoreState.decode(b"garbage") is None
    assert StoreState.decode(json.dumps({"a": 1}).encode()) is None
    assert touched(b"\x01\x02\x03", frozenset({1}))  # not a whole number of hashes
    old = AdvisoryStore.open(build(tmp_path, "a", [record(1, "PyPI", "alpha", "2", "")], {}))
    state = StoreState.of(old)
    other = StoreState("0/another-matcher", state.packages, state.advisories)
    assert changed_keys(other, state, old) is None
    assert StoreState.decode(state.encode()) == state
    old.close()
