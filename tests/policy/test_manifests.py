"""Reading manifests: YAML and JSON, multi-document, List kinds, directories and stdin, and
hostile input that must end in one clear error, never a traceback."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.errors import InputError, UnsafeInputError
from seawall.policy.manifests import parse_manifests
from seawall.policy.objects import normalise
from seawall.safety.yaml import load_yaml
from tests.policy.support import BUILTIN


def seawall(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seawall", *args],
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
    )


def test_multi_document_yaml_and_lists_are_flattened() -> None:
    text = (
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\n"
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: b, namespace: a}}\n"
        "- {apiVersion: v1, kind: ServiceList, items: "
        "[{apiVersion: v1, kind: Service, metadata: {name: c}}]}\n"
    )
    objects = parse_manifests(text, "x.yaml")
    assert [(o.kind, o.name) for o in objects] == [
        ("Namespace", "a"),
        ("ConfigMap", "b"),
        ("Service", "c"),
    ]


def test_json_manifest() -> None:
    text = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j"}})
    assert parse_manifests(text, "x.json")[0].name == "j"


@pytest.mark.parametrize(
    ("kind", "template"),
    [
        ("Deployment", "spec.template.spec"),
        ("CronJob", "spec.jobTemplate.spec.template.spec"),
        ("Pod", "spec"),
    ],
)
def test_pod_spec_is_found_in_every_controller(kind: str, template: str) -> None:
    spec = {
        "containers": [{"name": "a", "image": "x"}],
        "initContainers": [{"name": "i", "image": "y"}],
        "ephemeralContainers": [{"name": "e", "image": "z"}],
    }
    raw: dict[str, object] = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "n"}}
    node = raw
    keys = template.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})  # type: ignore[assignment]
    node[keys[-1]] = spec
    obj = normalise(raw)
    assert obj.pod_path == template
    assert [(c.group, c.name, c.path) for c in obj.containers] == [
        ("initContainers", "i", f"{template}.initContainers[0]"),
        ("containers", "a", f"{template}.containers[0]"),
        ("ephemeralContainers", "e", f"{template}.ephemeralContainers[0]"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [unclosed", "invalid YAML"),
        ("- just\n- a list\n", "not a Kubernetes object"),
        ("apiVersion: v1\nmetadata: {name: x}\n", "has no kind"),
        ("apiVersion: v1\nkind: List\nitems: 3\n", "no items"),
        ("plain scalar", "not a Kubernetes object"),
    ],
)
def test_malformed_manifests_are_input_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_manifests(text, "bad.yaml")


def test_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    text = "kind: ConfigMap\napiVersion: v1\ndata:\n" + "\n".join("  " + line for line in lines)
    with pytest.raises(UnsafeInputError, match="nodes"):
        parse_manifests(text, "bomb.yaml")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_is_objects_or_an_input_error(text: str) -> None:
    with contextlib.suppress(InputError):
        parse_manifests(text, "fuzz.yaml")


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_any_object_shape_normalises_and_evaluates(value: object) -> None:
    from tests.policy.support import fixture_engine

    document = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "f"}, "spec": value}
    text = yaml.safe_dump(document)
    for obj in parse_manifests(text, "fuzz.yaml"):
        for decision in fixture_engine().evaluate(obj):
            assert decision.finding.status.value != "error", decision.finding.evidence


def test_scan_command_reads_stdin_and_fails_on_severity() -> None:
    text = (BUILTIN / "pss-baseline-privileged.yaml").read_text()
    result = seawall("k8s", "scan", "-", "-f", "json", "--fail-on", "critical", stdin=text)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["kind"] == "k8s-scan"
    assert report["asset"] == {
        "type": "cluster", "id": "name:stdin", "name": "stdin", "manifest_digest": "",
        "config_digest": "", "references": [], "platform": "",
        "attributes": {"source": "manifests"},
    }  # fmt: skip
    failed = {r["rule"] for r in report["results"] if r["status"] == "fail"}
    assert "k8s/pss-baseline-privileged" in failed
    # passing results are reported too, so that healthy resources can be counted
    assert report["summary"]["statuses"]["pass"] > 0
    assert report["summary"]["healthy"] is False and report["summary"]["threshold"] == "critical"
    assert len(report["workloads"]) == 2
    assert {r["id"] for r in report["rules"]} >= failed


def test_scan_command_sarif_and_directory(tmp_path: Path) -> None:
    result = seawall("k8s", "scan", str(BUILTIN), "-f", "sarif", "-o", str(tmp_path / "r.sarif"))
    assert result.returncode == 0, result.stderr
    sarif = json.loads((tmp_path / "r.sarif").read_text())
    rule_ids = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {"rbac-wildcard-role", "pss-baseline-host-path", "bp-ingress-https"} <= rule_ids


def test_scan_command_bad_manifest_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("kind: [\n")
    result = seawall("k8s", "scan", str(tmp_path / "bad.yaml"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error:")
    assert "Traceback" not in result.stderr


def test_scan_needs_something_to_scan() -> None:
    result = seawall("k8s", "scan")
    assert result.returncode == 2 and "nothing to scan" in result.stderr


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000, "{" * 50_000, "- " * 100_000 + "x", "? " * 50_000 + "x"],
    ids=["json-arrays", "flow-mappings", "block-sequences", "complex-keys"],
)
def test_deep_nesting_is_refused_before_libyaml_can_crash(text: str) -> None:
    # PyYAML's composer recursed in C: ~20,000 levels killed the process (a segfault).
    with pytest.raises(UnsafeInputError, match="nest"):
        parse_manifests(text, "deep.yaml")


def test_timestamps_stay_strings_and_odd_scalars_are_clear_errors() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\n"
        "metadata: {name: c, annotations: {built: 2024-13-45, at: 2024-01-02}}\n"
    )
    (obj,) = parse_manifests(text, "c.yaml")
    assert obj.raw["metadata"]["annotations"] == {"built": "2024-13-45", "at": "2024-01-02"}
    for bad, message in (("!!int abc", "not a valid int"), ("9" * 5000, "more than 100 digits")):
        with pytest.raises(InputError, match=f"c.yaml: invalid YAML: line 3: .*{message}"):
            parse_manifests(f"apiVersion: v1\nkind: ConfigMap\ndata: {{n: {bad}}}\n", "c.yaml")


def test_documents_are_counted_while_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEAWALL_MAX_MANIFEST_DOCUMENTS", "10")
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
    assert len(parse_manifests("---\n".join([pod] * 10), "ten.yaml")) == 10
    with pytest.raises(UnsafeInputError, match=r"many\.yaml: line 40: more than 10 documents"):
        parse_manifests("---\n".join([pod] * 11), "many.yaml")


def test_only_regular_files_within_the_cap_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seawall.policy.manifests import load_manifests

    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    for path, message in ((fifo, "a FIFO"), (Path("/dev/zero"), "a character device")):
        with pytest.raises(InputError, match=message):
            load_manifests([str(path)])
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# padding\n" * 200)
    monkeypatch.setenv("SEAWALL_MAX_MANIFEST_BYTES", "1000")
    with pytest.raises(UnsafeInputError, match=r"big\.yaml: larger than 1000 bytes"):
        load_manifests([str(big)])


def test_real_manifests_read_as_pyyaml_reads_them() -> None:
    """The safe loader changes nothing for real manifests (the fixtures have no timestamps)."""
    files = sorted(BUILTIN.parent.rglob("*.y*ml"))
    assert len(files) > 20
    for path in files:
        expected = [d for d in yaml.load_all(path.read_bytes(), Loader=yaml.CSafeLoader)]
        assert load_yaml(path.read_bytes()) == expected, path


def test_scan_results_files_are_regular_and_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seawall.policy.vulnerabilities import load_scan_results
    from tests.support.hostile import deep_json

    deep = tmp_path / "results.json"
    deep.write_bytes(deep_json())
    wide = tmp_path / "wide.json"
    wide.write_bytes(b'{"schema": "x", "results": [' + b"{}," * 100 + b"{}]}")
    for path, message in ((Path("/dev/zero"), "a character device"), (deep, "nested deeper")):
        with pytest.raises(InputError, match=message):
            load_scan_results([path])
    monkeypatch.setenv("SEAWALL_MAX_JSON_VALUES", "100")
    with pytest.raises(InputError, match="more than 100 values"):
        load_scan_results([wide])
