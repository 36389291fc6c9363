"""The one result contract: every engine writes the same versioned envelope, valid against
the published JSON Schema, byte for byte as the golden files pin it; the reader refuses what
is not an envelope of this version with a message naming the problem.

Golden files live in ``tests/fixtures/contract/``; after a deliberate change to the contract
regenerate them (and the schema) with ``SEAWALL_UPDATE_GOLDEN=1 pytest tests/contract`` and
review the diff.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import jsonschema
import msgspec
import pytest

from seawall.admission.decide import AdmissionSettings, Decider, DecisionLog
from seawall.admission.review import parse_review
from seawall.contract import SCHEMA_ID, ContractError, Envelope, Kind, decode, encode_pretty
from seawall.contract.envelope import AdmissionDecision
from seawall.contract.schema import json_schema, json_schema_text
from seawall.hardening.benchmark import score
from seawall.hardening.docker.audit import HostAudit
from seawall.inventory.scan import InventoryOptions, build_inventory
from seawall.model import Finding, Inventory, Resource, Status
from seawall.policy.engine import PolicyEngine
from seawall.policy.manifests import load_manifests
from seawall.report.envelope.admission import admission_envelope
from seawall.report.envelope.host import host_envelope
from seawall.report.envelope.image import inventory_envelope, scan_envelope
from seawall.report.envelope.kubernetes import cluster_asset, k8s_envelope
from seawall.report.envelope.runtime import alerts_envelope
from seawall.rules import catalog
from seawall.runtime.alerts import AlertFolder, Detector
from seawall.runtime.badinput import BadInput
from seawall.runtime.replay import replay
from seawall.runtime.rules.loader import load_rules
from seawall.vulndb.scan import ScanOptions, scan_inventory
from seawall.vulndb.store import AdvisoryStore
from tests.support.advisorydb import DEMO_IMAGE, demo_database
from tests.support.envelopes import node_audit

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "fixtures" / "contract"
SCHEMA_FILE = ROOT / "docs" / "schemas" / "result-v1.json"
POLICY = ROOT / "tests" / "fixtures" / "policy"
K8S_AUDIT = ROOT / "tests" / "fixtures" / "runtime" / "k8s-audit"
WHEN = "2026-12-01T12:00:00Z"
UPDATE = bool(os.environ.get("SEAWALL_UPDATE_GOLDEN"))


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    """The demo image's inventory, named as from the repository root (checkouts differ)."""
    found = build_inventory(str(DEMO_IMAGE), InventoryOptions(cache_dir=None), workers=1)
    image = msgspec.structs.replace(found.image, reference="examples/demo-image.tar.gz")
    return msgspec.structs.replace(found, image=image)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_database(tmp_path_factory.mktemp("db"))


def _scan(inventory: Inventory, database: Path) -> Envelope:
    store = AdvisoryStore.open(database)
    try:
        report = scan_inventory(inventory, store, ScanOptions(), database=store.describe())
    finally:
        store.close()
    envelope = scan_envelope(report, produced_at=WHEN)
    assert envelope.database is not None and envelope.database.built_at
    # a rebuilt database has another build time and, here, a temporary source path
    database_block = msgspec.structs.replace(
        envelope.database, built_at=WHEN, sources=("import:osv",)
    )
    return msgspec.structs.replace(envelope, database=database_block)


def _host() -> Envelope:
    """A host audit as the engine returns it: real catalog rules, a container result, a
    pass, a not-applicable and an error, the containers with their images."""
    rules = catalog("cis-docker")
    host = Resource(kind="host", name="build-01", attributes={"endpoint": "unix:///run/d.sock"})
    web = Resource(kind="container", name="web", id="c0ffee" * 10 + "abcd")
    findings = [
        Finding(rule=rules["2.2"], status=Status.FAIL, resource=host,
                evidence='daemon.json icc="true"'),
        Finding(rule=rules["2.6"], status=Status.PASS, resource=host, evidence="overlay2"),
        Finding(rule=rules["5.4"], status=Status.FAIL, resource=web,
                evidence="Privileged=true", remediation="docker run without --privileged"),
        Finding(rule=rules["5.4"], status=Status.PASS, resource=host),
        Finding(rule=rules["7.1"], status=Status.NOT_APPLICABLE, resource=host,
                evidence="swarm mode is not active"),
        Finding(rule=rules["1.1.3"], status=Status.ERROR, resource=host,
                evidence="auditctl: permission denied"),
    ]  # fmt: skip
    inventory = {
        "endpoint": "unix:///run/d.sock", "engine": "docker",
        "id": "6VQY:YKUR:2TWT:4PXT:WHU4:XKA7:CKGO:RW4U:VRXY:OD3N:CJYO:XDLE",
        "name": "build-01", "docker_version": "26.1.5", "api_version": "1.45",
        "containerd_version": "1.7.20", "os": "Debian GNU/Linux 12 (bookworm)",
        "kernel": "6.1.0-25-amd64", "architecture": "x86_64", "images": 3,
        "containers_running": 1, "containers_stopped": 0,
        "unmanaged_containers": ["web"], "dockerd_pid": 812, "daemon_config_file": "",
        "containers": [{"id": web.id, "name": "web", "image": "nginx:1.27",
                        "image_id": "sha256:" + "5" * 64, "running": True,
                        "labels": {"team": "shop"}}],
    }  # fmt: skip
    audit = HostAudit(findings=findings, inventory=inventory, score=score(findings))
    return host_envelope(audit, produced_at=WHEN)


def _k8s() -> Envelope:
    objects = load_manifests([str(POLICY / "workloads.yaml")])
    # file paths differ between checkouts: name the manifest by its base name
    objects = [replace(o, origin=Path(o.origin).name) for o in objects]
    findings = PolicyEngine().findings(objects, passes=True)
    return k8s_envelope(cluster_asset("shop"), objects, findings, produced_at=WHEN)


def _alerts() -> Envelope:
    detector = Detector(load_rules([]), AlertFolder(60), {"k8s_audit": {"cluster": "minikube"}})
    alerts = replay(sorted(K8S_AUDIT.glob("*.json")), detector, BadInput())
    return alerts_envelope(cluster_asset("minikube"), alerts, produced_at=WHEN)


def _admission() -> Envelope:
    pod = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "debug", "namespace": "shop"},
        "spec": {"containers": [{"name": "c", "image": "busybox",
                                 "securityContext": {"privileged": True}}]},
    }  # fmt: skip
    review = {
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
                    "kind": {"group": "", "version": "v1", "kind": "Pod"},
                    "resource": {"group": "", "version": "v1", "resource": "pods"},
                    "namespace": "shop", "name": "debug", "operation": "CREATE",
                    "userInfo": {"username": "alice"}, "object": pod},
    }  # fmt: skip
    stream = io.StringIO()
    decider = Decider(PolicyEngine(), AdmissionSettings(), DecisionLog(stream))
    decider.decide(parse_review(json.dumps(review).encode()))
    decision = msgspec.json.decode(stream.getvalue().encode(), type=AdmissionDecision)
    decision = msgspec.structs.replace(decision, time=WHEN, ms=0.5)
    return admission_envelope(cluster_asset("shop"), [decision], produced_at=WHEN)


@pytest.fixture(scope="module")
def envelopes(inventory: Inventory, database: Path) -> dict[str, Envelope]:
    return {
        "inventory": inventory_envelope(inventory, produced_at=WHEN),
        "image-scan": _scan(inventory, database),
        "host-audit": _host(),
        "node-audit": node_audit(produced_at=WHEN),
        "k8s-scan": _k8s(),
        "alerts": _alerts(),
        "admission": _admission(),
    }


def test_the_published_schema_is_the_contract() -> None:
    if UPDATE:
        SCHEMA_FILE.parent.mkdir(parents=True, exist_ok=True)
        SCHEMA_FILE.write_text(json_schema_text())
    assert SCHEMA_FILE.read_text() == json_schema_text(), (
        "docs/schemas/result-v1.json is stale: regenerate it (SEAWALL_UPDATE_GOLDEN=1)"
    )
    jsonschema.Draft202012Validator.check_schema(json_schema())


@pytest.mark.parametrize("kind", [k.value for k in Kind])
def test_every_kind_matches_its_golden_file(envelopes: dict[str, Envelope], kind: str) -> None:
    text = encode_pretty(envelopes[kind])
    golden = GOLDEN / f"{kind}.json"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text + "\n")
    assert text + "\n" == golden.read_text()
    document = json.loads(text)
    jsonschema.validate(document, json_schema())
    assert document["schema"] == SCHEMA_ID and document["kind"] == kind
    assert decode(text.encode()) == envelopes[kind]


def test_goldens_say_what_each_kind_needs(envelopes: dict[str, Envelope]) -> None:
    scan = envelopes["image-scan"]
    assert scan.asset.id == scan.asset.config_digest and scan.asset.id.startswith("sha256:")
    # one rule per vulnerability, by its CVE id, with the advisories' own ids as aliases
    assert {r.rule for r in scan.results} == {
        "osv/CVE-2024-47081", "osv/CVE-2026-0001", "osv/CVE-2026-0002", "osv/CVE-2026-0003",
    }  # fmt: skip
    assert "GHSA-9wx4-h78v-vm56" in {a for rule in scan.rules for a in rule.aliases}
    assert {r.severity for r in scan.results} == {"critical", "high", "medium", "low"}
    assert scan.summary.severities == {"critical": 1, "high": 1, "low": 1, "medium": 1}
    host = envelopes["host-audit"]
    assert host.summary.statuses == {"error": 1, "fail": 2, "not_applicable": 1, "pass": 2}
    assert host.rules[0].id == "cis-docker-1.6/2.2"
    k8s = envelopes["k8s-scan"]
    assert {r.status for r in k8s.results} >= {Status.PASS, Status.FAIL}
    assert any(r.rule.startswith("k8s/pss-") for r in k8s.results)
    assert all(len(r.fingerprint) == 32 for e in envelopes.values() for r in e.results)
    assert envelopes["alerts"].alerts and envelopes["admission"].decisions[0].would_deny


def test_fingerprints_are_stable_and_distinct(
    inventory: Inventory, database: Path, envelopes: dict[str, Envelope]
) -> None:
    again = _scan(inventory, database)
    assert [r.fingerprint for r in again.results] == [
        r.fingerprint for r in envelopes["image-scan"].results
    ]
    k8s = envelopes["k8s-scan"].results
    assert len({r.fingerprint for r in k8s}) == len(k8s)
    # another cluster, same manifests: other fingerprints
    other = k8s_envelope(cluster_asset("other"), [], [], produced_at=WHEN)
    assert other.asset.id != envelopes["k8s-scan"].asset.id


def _broken(envelope: Envelope, **changes: object) -> bytes:
    document = json.loads(encode_pretty(envelope))
    for path, value in changes.items():
        target = document
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"schema": "https://seawall.dev/schemas/result/v2"}, "is not 'https://seawall.dev"),
        ({"schema": None}, "schema None is not"),
        ({"kind": "invoice"}, "Invalid enum value 'invoice' - at `$.kind`"),
        ({"results.0.rule": 5}, "Expected `str`, got `int` - at `$.results[0].rule`"),
        ({"results.0.severity": "3"}, "at `$.results[0].severity`"),
        ({"results.0.status": "bad"}, "at `$.results[0].status`"),
        ({"results.0.rule": "osv/NOPE"}, "results[0]: rule 'osv/NOPE' is not in rules"),
        ({"results.1.fingerprint": "x"}, None),
        ({"asset.id": ""}, "asset.id is empty"),
        ({"rules": "x"}, "Expected `array`, got `str` - at `$.rules`"),
    ],
)
def test_bad_envelopes_are_refused_by_name(
    envelopes: dict[str, Envelope], changes: dict[str, object], message: str | None
) -> None:
    data = _broken(envelopes["image-scan"], **changes)
    if message is None:  # a changed fingerprint is still valid when unique
        decode(data)
        return
    with pytest.raises(ContractError, match=None) as caught:
        decode(data, "upload.json")
    assert str(caught.value).startswith("upload.json: ")
    assert message in str(caught.value)


def test_duplicates_are_refused(envelopes: dict[str, Envelope]) -> None:
    scan = envelopes["image-scan"]
    twice = msgspec.structs.replace(scan, rules=(*scan.rules, scan.rules[0]))
    with pytest.raises(ContractError, match="listed twice"):
        decode(encode_pretty(twice).encode())
    same = msgspec.structs.replace(scan, results=(scan.results[0], scan.results[0]))
    with pytest.raises(ContractError, match="is not unique"):
        decode(encode_pretty(same).encode())
    for junk in (b"", b"[]", b"{not json", b'"text"'):
        with pytest.raises(ContractError):
            decode(junk)


def seawall(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seawall", *args], capture_output=True, text=True, timeout=120
    )


def test_k8s_scan_reads_image_scan_output_as_it_is(database: Path, tmp_path: Path) -> None:
    """``image scan -f json`` output feeds the image-vulnerabilities policy unchanged."""
    scan = tmp_path / "scan.json"
    made = seawall("image", "scan", str(DEMO_IMAGE), "--db", str(database), "-f", "json",
                   "-o", str(scan))  # fmt: skip
    assert made.returncode == 0, made.stderr
    pod = tmp_path / "pod.yaml"
    pod.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: demo, namespace: shop}\n"
        "spec:\n  containers:\n  - name: app\n    image: seawall/demo:1.0\n"
    )
    result = seawall("k8s", "scan", str(pod), "--image-scans", str(scan), "-f", "json")
    document = json.loads(result.stdout)
    vulnerable = [r for r in document["results"] if r["rule"] == "k8s/image-vulnerabilities"]
    assert [r["status"] for r in vulnerable] == ["fail"], result.stderr
    assert "CVE-2026-0002 (critical)" in vulnerable[0]["evidence"]
    # an inventory is not a scan: refused with one line
    sbom = tmp_path / "sbom.json"
    assert seawall("sbom", str(DEMO_IMAGE), "-f", "json", "-o", str(sbom)).returncode == 0
    refused = seawall("k8s", "scan", str(pod), "--image-scans", str(sbom))
    assert refused.returncode == 2
    assert "a result of kind inventory, not an image scan" in refused.stderr
