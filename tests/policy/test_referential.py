"""Referential data (Gatekeeper's ``data.inventory``): templates that compare an object with
the rest of the cluster get a suite case's ``inventory`` objects in ``policy verify`` and the
scanned objects themselves in ``k8s scan``; an evaluation never sees an earlier one's
inventory. The templates and suite are in ``tests/fixtures/policy/referential/``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from seawall.policy.engine import PolicyEngine
from seawall.policy.gatekeeper.suite import run_suite
from seawall.policy.inventory import referential_data
from seawall.policy.library import PolicyLibrary
from seawall.policy.manifests import load_manifests
from seawall.policy.request import Review

REFERENTIAL = Path(__file__).resolve().parents[1] / "fixtures" / "policy" / "referential"


def _objects(*names: str) -> list:
    return list(load_manifests([str(REFERENTIAL / "samples" / name) for name in names]))


def test_the_inventory_is_laid_out_as_gatekeeper_does() -> None:
    inventory = referential_data(
        _objects("inventory-web-elsewhere.yaml", "inventory-ingress-classes.yaml")
    )
    assert set(inventory["namespace"]) == {"staging", "shop"}
    assert inventory["namespace"]["shop"]["apps/v1"]["Deployment"]["api"]["kind"] == "Deployment"
    assert inventory["cluster"]["networking.k8s.io/v1"]["IngressClass"]["nginx"]["spec"] == {
        "controller": "k8s.io/ingress-nginx"
    }


def test_every_case_of_the_referential_suite_passes() -> None:
    results = list(run_suite(REFERENTIAL / "suite.yaml"))
    assert len(results) == 5
    assert [r.label for r in results if not r.passed] == []


def test_an_evaluation_never_sees_an_earlier_ones_inventory() -> None:
    library = PolicyLibrary.load(
        [str(REFERENTIAL / "template-service-backed.yaml"),
         str(REFERENTIAL / "samples" / "constraint-service-backed.yaml")]
    )  # fmt: skip
    engine = PolicyEngine(library=library, builtin=False)
    (service,) = _objects("service-web.yaml")
    backed = Review(inventory=referential_data(_objects("inventory-web-deployment.yaml")))
    for _ in range(3):  # the same worker, alternately with and without the Deployment
        assert engine.evaluate(service, backed) == []
        assert len(engine.evaluate(service, Review())) == 1


def test_a_manifest_scan_is_its_own_inventory(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        (REFERENTIAL / "template-service-backed.yaml").read_text()
        + "---\n"
        + (REFERENTIAL / "samples" / "constraint-service-backed.yaml").read_text()
    )
    manifests = tmp_path / "app.yaml"
    orphan = (REFERENTIAL / "samples" / "service-web.yaml").read_text().replace("web", "orphan")
    manifests.write_text(
        (REFERENTIAL / "samples" / "service-web.yaml").read_text()
        + "---\n"
        + (REFERENTIAL / "samples" / "inventory-web-deployment.yaml").read_text()
        + "---\n"
        + orphan
    )
    result = subprocess.run(
        [sys.executable, "-m", "seawall", "k8s", "scan", "--no-builtin", "--policy", str(policy),
         "--format", "json", str(manifests)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    failing = [r for r in json.loads(result.stdout)["results"] if r["status"] == "fail"]
    assert [(r["resource"]["name"], r["message"]) for r in failing] == [
        ("orphan", "Service orphan selects no Deployment of namespace shop")
    ]
