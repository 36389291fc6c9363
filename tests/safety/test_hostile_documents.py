"""Every document reader, run as a user runs it, on hostile input: each command ends in one
``error:`` line and exit 2 (a bad advisory database too; only a missing one is exit 3), inside
1 GB of address space and a timeout, never a traceback, a hang or a blown-up machine.

The inputs are built here, small (a few KB, but for the two that must be large): YAML alias
bombs, FIFOs and ``/dev/zero`` as file arguments, deep JSON, wrong JSON types, oversized
manifests and document counts, hostile SQLite databases."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from seawall.vulndb.importer import import_paths
from tests.support.hostile import alias_bomb, deep_json
from tests.support.limits import assert_one_line_refusal, run_limited
from tests.vulndb.conftest import osv, write_zip

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x}]}\n"
SBOM = json.dumps({"bomFormat": "CycloneDX", "components": []})


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Named inputs: a FIFO, /dev/zero, deep JSON, an alias bomb, a valid SBOM."""
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    made = {"fifo": fifo, "zero": Path("/dev/zero")}
    for name, content in (
        ("deep.json", deep_json()),
        ("bomb.yaml", alias_bomb().encode()),
        ("sbom.json", SBOM.encode()),
        ("wide.json", b"[" + b"{}," * 4_100_000 + b"{}]"),  # 12 MB: gigabytes once built
    ):
        made[name.split(".")[0]] = tmp_path / name
        (tmp_path / name).write_bytes(content)
    return made


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["k8s", "scan", "{fifo}"], ["a FIFO, not a regular file"]),
        (["k8s", "scan", "{zero}"], ["a character device, not a regular file"]),
        (["k8s", "scan", "{bomb}"], ["more than 2000000 nodes"]),
        (["k8s", "scan", "{deep}"], ["JSON nested deeper than 64 levels"]),
        (["k8s", "scan", "{wide}"], ["JSON of more than 2000000 values"]),
        (["sbom", "match", "{wide}"], ["JSON of more than 4000000 values"]),
        (["sbom", "match", "{fifo}"], ["a FIFO"]),
        (["sbom", "match", "{zero}"], ["a character device"]),
        (["sbom", "match", "{deep}"], ["nested deeper than 64 levels"]),
        (["sbom", "match", "{sbom}", "--vex", "{fifo}"], ["a FIFO"]),
        (["sbom", "match", "{sbom}", "--vex", "{zero}"], ["a character device"]),
        (["sbom", "match", "{sbom}", "--vex", "{deep}"], ["nested deeper"]),
        (["sbom", "match", "{sbom}", "--ignore-file", "{bomb}"], ["nodes"]),
        (["sbom", "match", "{sbom}", "--ignore-file", "{zero}"], ["a character device"]),
        (["runtime", "replay", "{fifo}"], ["a FIFO"]),
        (["runtime", "replay", "{zero}"], ["a character device"]),
        (["runtime", "replay", "--rules", "{bomb}", "{sbom}"], ["nodes"]),
        (["db", "import", "{zero}", "--db", "{tmp}/new.db"], ["a character device"]),
        (["db", "import", "{fifo}", "--db", "{tmp}/new.db"], ["a FIFO"]),
        (
            ["db", "import", "{deep}", "--kev", "{zero}", "--db", "{tmp}/n.db"],
            ["a character device"],
        ),
        (["db", "import", "{deep}", "--db", "{zero}"], ["/dev/zero: a character device"]),
        (["db", "import", "{deep}", "--db", "{fifo}"], ["a FIFO, not a regular file"]),
        (["db", "export", "{zero}", "--db", "{deep}"], ["/dev/zero: a character device"]),
    ],
    ids=lambda value: (
        " ".join(value).replace("{", "").replace("}", "") if "{" in str(value) else ""
    ),
)
def test_hostile_file_arguments_are_one_line_refusals(
    files: dict[str, Path], tmp_path: Path, args: list[str], needles: list[str]
) -> None:
    names = {key: str(path) for key, path in files.items()} | {"tmp": str(tmp_path)}
    result = run_limited(*(arg.format_map(names) for arg in args), timeout=60)
    assert_one_line_refusal(result, *needles)


def test_a_manifest_larger_than_the_cap_is_refused_unparsed(tmp_path: Path) -> None:
    big = tmp_path / "list.yaml"
    item = "- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {k: v}}\n"
    with big.open("w") as out:
        out.write("apiVersion: v1\nkind: List\nitems:\n")
        out.write(item * (60 * 1024 * 1024 // len(item)))
    result = run_limited("k8s", "scan", str(big), timeout=60)
    assert_one_line_refusal(result, "larger than 33554432 bytes")


def test_two_hundred_thousand_documents_are_refused_while_parsing(tmp_path: Path) -> None:
    many = tmp_path / "many.yaml"
    many.write_text("---\n{}\n" * 200_000)
    result = run_limited("k8s", "scan", str(many), timeout=60)
    assert_one_line_refusal(result, "more than 100000 documents")


def test_odd_scalars_in_a_manifest_are_read_or_named(tmp_path: Path) -> None:
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(POD.replace("{name: p}", "{name: p, annotations: {built: 2024-13-45}}"))
    assert run_limited("k8s", "scan", str(manifest), timeout=60).returncode in (0, 1)
    manifest.write_text(POD.replace("image: x", "image: x, n: !!int abc"))
    assert_one_line_refusal(run_limited("k8s", "scan", str(manifest)), "not a valid int")
    manifest.write_text(POD.replace("image: x", "image: x, n: " + "9" * 5000))
    assert_one_line_refusal(run_limited("k8s", "scan", str(manifest)), "more than 100 digits")


@pytest.mark.parametrize(
    ("args", "document", "needle"),
    [
        (["--vex"], {"statements": 1}, "field statements: expected list or null, got int"),
        ([], {"bomFormat": "CycloneDX", "components": 3}, "field components: expected list"),
        ([], {"spdxVersion": "SPDX-2.3", "packages": "x"}, "field packages: expected list"),
        (["--vex"], {"vulnerabilities": {}}, "field vulnerabilities: expected list"),
    ],
    ids=["vex-statements", "cyclonedx-components", "spdx-packages", "cyclonedx-vex"],
)
def test_wrong_json_types_name_the_field(
    tmp_path: Path, args: list[str], document: object, needle: str
) -> None:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(document))
    sbom = tmp_path / "sbom.json"
    sbom.write_text(SBOM)
    command = (
        ["sbom", "match", str(sbom), *args, str(path)] if args else ["sbom", "match", str(path)]
    )
    assert_one_line_refusal(run_limited(*command, timeout=60), str(path), needle)


def test_nested_event_lines_are_skipped_and_the_rest_is_read(tmp_path: Path) -> None:
    events = tmp_path / "audit.jsonl"
    good = (FIXTURES / "runtime" / "k8s-audit" / "exec_pod.json").read_bytes().strip()
    events.write_bytes(b'{"kind": "Event", "x": ' + deep_json() + b"}\n" + good + b"\n")
    result = run_limited("runtime", "replay", str(events), timeout=60)
    assert result.returncode == 1, result.stderr  # the good line's alert
    assert "1 events, 1 alerts" in result.stderr
    assert "1 JSON beyond limits" in result.stderr and "Traceback" not in result.stderr
    events.write_bytes(b'{"kind": "Event", "x": ' + deep_json() + b"}\n")  # nothing else
    assert_one_line_refusal(
        run_limited("runtime", "replay", str(events), timeout=60), "no event could be read"
    )


@pytest.fixture(scope="module")
def good_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("db")
    archive = write_zip(work / "a.zip", {f"{i}.json": osv(f"GHSA-{i}") for i in range(5)})
    import_paths(work / "advisories.db", [archive])
    return work / "advisories.db"


@pytest.mark.parametrize(
    "statements",
    [
        ["DROP TABLE advisories",
         "CREATE VIEW advisories AS SELECT 'GHSA-0' AS id, '' AS source, '' AS cves,"
         " 0 AS crc, zeroblob(2700000000) AS data"],
        ["CREATE TABLE extra (x)"],
        ["PRAGMA page_size = 65536", "VACUUM"],
    ],
    ids=["zeroblob-view", "wrong-schema", "huge-page-size"],
)  # fmt: skip
def test_a_hostile_database_is_refused_in_one_line(
    good_db: Path, tmp_path: Path, statements: list[str]
) -> None:
    hostile = tmp_path / "bundle.db"
    shutil.copyfile(good_db, hostile)
    connection = sqlite3.connect(hostile)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()
    if statements[0].startswith("PRAGMA"):  # a valid 64 KB page size; a header that lies
        data = bytearray(hostile.read_bytes())
        data[28:32] = (len(data) // 65536 * 1000).to_bytes(4, "big")
        hostile.write_bytes(bytes(data))
    imported = run_limited("db", "import", str(hostile), "--db", str(tmp_path / "new.db"))
    assert_one_line_refusal(imported, f"bundle {hostile} is corrupt or unreadable")
    sbom = tmp_path / "sbom.json"
    sbom.write_text(SBOM)
    matched = run_limited("sbom", "match", str(sbom), "--db", str(hostile))
    assert_one_line_refusal(matched, f"advisory database {hostile} is corrupt or unreadable")
