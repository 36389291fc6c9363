"""Every command that reads a file, fed each kind of hostile file, as a user would run it but
under a 1 GB address-space limit and a time limit: exit 2 and one ``error:`` line, never a
traceback, a hang, a crash or a blow-up.

The inputs are built here and small (an alias bomb is under a kilobyte); what each reader
does with them in detail is tested beside the reader. This table is the issue's "every
input class gives exit 2 and one clear line within its budget", command by command.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.limits import assert_one_line_refusal, run_limited

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo-image.tar.gz"
OSV = next((REPO / "tests" / "fixtures" / "vulndb" / "crates.io").glob("*.json"))
POD = """apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  containers: [{name: web, image: registry.example/web:1}]
"""
ALIAS_BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{chr(97 + i)}: &{chr(97 + i)} [{', '.join(['*' + chr(96 + i)] * 9)}]"
        for i in range(1, 10)
    ]
)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _write(text: str | bytes) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        if isinstance(text, str):
            path.write_text(text)
        else:
            path.write_bytes(text)

    return make


def _zeroblob_database(path: Path) -> None:
    """An SQLite file whose one table is a view that makes gigabytes from nothing."""
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE VIEW advisories AS SELECT zeroblob(1000000000) AS record "
            "FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
            "SELECT i FROM n LIMIT 100)"
        )
    connection.close()


# kind -> how to make it at a path (None: use the path as it is: a device or nothing at all)
HOSTILE: dict[str, Callable[[Path], None] | str | None] = {
    "missing": None,
    "fifo": _fifo,
    "device": "/dev/zero",
    "directory": Path.mkdir,
    "deep-json": _write("[" * 200_000),
    "deep-yaml": _write("a: " + "[" * 200_000),
    "alias-bomb": _write(ALIAS_BOMB),
    "bad-scalar": _write("a: !!int abc\n"),
    "wrong-type-json": _write(json.dumps({"statements": 1, "components": 3, "RepoTags": 5})),
    "garbage": _write(os.urandom(4096)),
    "zeroblob-sqlite": _zeroblob_database,
}

# command template ({f}: the hostile file; {sbom}, {db}, {pod}: valid companions) -> kinds
COMMANDS: list[tuple[str, tuple[str, ...]]] = [
    ("sbom {f}", ("missing", "fifo", "device", "directory", "garbage")),
    ("image scan {f} --db {db}", ("missing", "fifo", "device", "garbage")),
    ("sbom match {f} --db {db}",
     ("missing", "fifo", "device", "directory", "deep-json", "wrong-type-json", "garbage")),
    ("sbom match {sbom} --db {db} --vex {f}",
     ("missing", "fifo", "device", "deep-json", "wrong-type-json", "garbage")),
    ("sbom match {sbom} --db {db} --ignore-file {f}",
     ("missing", "fifo", "device", "alias-bomb", "deep-yaml", "bad-scalar")),
    ("sbom match {sbom} --db {f}",
     ("fifo", "device", "directory", "garbage", "zeroblob-sqlite")),
    ("k8s scan {f}",
     ("missing", "fifo", "device", "deep-json", "deep-yaml", "alias-bomb", "bad-scalar")),
    ("k8s scan {pod} --image-scans {f}",
     ("missing", "fifo", "device", "deep-json", "wrong-type-json", "garbage")),
    ("k8s scan {pod} --config {f}", ("missing", "fifo", "device", "alias-bomb", "deep-yaml")),
    ("k8s scan {pod} --policy {f}", ("missing", "fifo", "device", "alias-bomb", "deep-yaml")),
    ("k8s scan --kubeconfig {f}",
     ("missing", "fifo", "device", "directory", "alias-bomb", "deep-yaml", "bad-scalar")),
    ("runtime replay {f}", ("missing", "fifo", "device", "directory", "deep-json")),
    ("db import {f} --db {newdb}", ("missing", "fifo", "device", "deep-json", "garbage")),
]  # fmt: skip


@pytest.fixture(scope="module")
def companions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A valid advisory database, SBOM and manifest for the other arguments."""
    work = tmp_path_factory.mktemp("companions")
    db, sbom, pod = work / "advisories.db", work / "sbom.json", work / "pod.yaml"
    for args in (
        ["db", "import", str(OSV), "--db", str(db)],
        ["sbom", str(DEMO), "--no-cache", "-f", "json", "-o", str(sbom)],
    ):
        done = subprocess.run([sys.executable, "-m", "seawall", *args], capture_output=True,
                              text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr
    pod.write_text(POD)
    return {"db": str(db), "sbom": str(sbom), "pod": str(pod), "newdb": str(work / "new.db")}


CASES = [(template, kind) for template, kinds in COMMANDS for kind in kinds]


@pytest.mark.slow
@pytest.mark.parametrize(("template", "kind"), CASES, ids=[f"{t}-{k}" for t, k in CASES])
def test_a_hostile_file_is_one_clear_line(
    template: str, kind: str, companions: dict[str, str], tmp_path: Path
) -> None:
    make = HOSTILE[kind]
    target = tmp_path / f"hostile-{kind}"
    if isinstance(make, str):
        target = Path(make)
    elif make is not None:
        make(target)
    args = template.format(f=target, **companions).split()
    result = run_limited(*args, timeout=60, env={"SEAWALL_CACHE_DIR": str(tmp_path / "cache")})
    assert_one_line_refusal(result)
