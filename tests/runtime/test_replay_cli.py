"""``seawall runtime replay`` and ``rules`` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.runtime.conftest import AUDITD, K8S


def seawall(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seawall", *args], capture_output=True, text=True, timeout=120
    )


def test_replay_real_audit_events_as_json() -> None:
    result = seawall(
        "runtime",
        "replay",
        "-f",
        "json",
        "--cluster",
        "minikube",
        *map(str, sorted(K8S.glob("*.json"))),
    )
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["kind"] == "alerts"
    assert document["asset"]["type"] == "cluster" and document["asset"]["id"] == "name:minikube"
    records = document["alerts"]
    assert sorted(r["rule"] for r in records) == sorted(
        [
            "runtime/k8s-anonymous-request-allowed",
            "runtime/k8s-cluster-admin-binding",
            "runtime/k8s-high-privilege-role",
            "runtime/k8s-privileged-container",
            "runtime/k8s-sensitive-mount",
            "runtime/k8s-exec-attach",
            # six creates of one configmap, in two fold windows
            "runtime/k8s-configmap-credentials",
            "runtime/k8s-configmap-credentials",
        ]
    )
    assert {r["id"] for r in document["rules"]} == {r["rule"] for r in records}
    assert all(r["resource"]["attributes"]["cluster"] == "minikube" for r in records)
    assert "skipped: 1 non-audit JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_replay_benign_files_exits_zero(tmp_path: Path) -> None:
    benign = [
        K8S / "create_deployment.json",
        K8S / "create_nginx_pod_unprivileged.json",
        AUDITD / "benign.log",
    ]
    result = seawall("runtime", "replay", *map(str, benign))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "no alerts"


def test_replay_table_and_output_file(tmp_path: Path) -> None:
    out = tmp_path / "alerts.txt"
    result = seawall("runtime", "replay", str(AUDITD / "attack.log"), "-o", str(out))
    assert result.returncode == 1
    text = out.read_text()
    assert "host-reverse-shell" in text and "SEVERITY" in text


def test_replay_eventlist_document_spanning_lines(tmp_path: Path) -> None:
    items = [json.loads((K8S / "exec_pod.json").read_text())]
    doc = tmp_path / "batch.json"
    doc.write_text(
        json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": items}, indent=2)
    )
    result = seawall("runtime", "replay", "-f", "json", str(doc))
    assert result.returncode == 1
    (record,) = json.loads(result.stdout)["alerts"]
    assert record["rule"] == "runtime/k8s-exec-attach"


def test_user_rules_change_the_outcome(tmp_path: Path) -> None:
    rules = tmp_path / "quiet.yaml"
    rules.write_text("- rule: k8s-exec-attach\n  enabled: false\n")
    result = seawall("runtime", "replay", "--rules", str(rules), str(K8S / "exec_pod.json"))
    assert result.returncode == 0, result.stderr


def test_bad_inputs_are_one_line_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("- rule: x\n  source: k8s_audit\n  condition: ka.verb ==\n")
    result = seawall("runtime", "replay", "--rules", str(broken), str(K8S / "exec_pod.json"))
    assert result.returncode == 2
    assert "rule 'x'" in result.stderr and "Traceback" not in result.stderr
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    result = seawall("runtime", "replay", str(text))
    assert result.returncode == 2 and "not an event file" in result.stderr
    result = seawall("runtime", "replay", str(tmp_path / "missing.json"))
    assert result.returncode == 2


def test_mixed_garbage_lines_are_skipped(tmp_path: Path) -> None:
    lines = (K8S / "exec_pod.json").read_bytes().strip()
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_bytes(
        lines + b"\n{broken\n\n" + lines[:50] + b"\n" + b'{"kind":0}\n' + lines + b"\n"
    )
    result = seawall("runtime", "replay", "-f", "json", str(mixed))
    assert result.returncode == 1
    (record,) = json.loads(result.stdout)["alerts"]
    assert record["count"] == 2
    assert "2 malformed JSON" in result.stderr and "1 non-audit JSON" in result.stderr


def test_rules_listing() -> None:
    result = seawall("runtime", "rules", "-f", "json")
    assert result.returncode == 0
    rules = json.loads(result.stdout)
    assert {r["source"] for r in rules} == {"k8s_audit", "docker", "auditd"}
    assert all(r["tactic"] and r["severity"] for r in rules)


def test_docs_describe_every_builtin_rule_and_field() -> None:
    from seawall.runtime.events import load_sources
    from seawall.runtime.rules.loader import load_rules

    docs = (Path(__file__).resolve().parents[2] / "docs" / "runtime.md").read_text()
    missing = [rid for rid in load_rules().rules if f"`{rid}`" not in docs]
    fields = [f for s in load_sources().values() for f in s.fields if f"`{f}`" not in docs]
    assert missing == [] and fields == []
