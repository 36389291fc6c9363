"""Work budgets as users meet them: ``k8s scan``, ``policy verify`` and ``admission serve``
with a template that allocates without bound. The command carries on and names the policy;
the process itself never dies of it."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from pathlib import Path

import httpx

from seawall.admission.certs import issue
from tests.policy.hostile import HUNGRY, NESTED, OWNER, pod
from tests.support.limits import assert_one_line_refusal, run_limited

SMALL = {"SEAWALL_POLICY_MEMORY_MB": "128", "SEAWALL_POLICY_TIMEOUT": "5"}


def test_scan_reports_the_policy_over_budget_and_goes_on(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(HUNGRY + OWNER)
    (tmp_path / "pod.yaml").write_text(pod())
    result = run_limited(
        "k8s", "scan", "--no-builtin", "--policy", str(tmp_path / "policy.yaml"),
        "--format", "json", str(tmp_path / "pod.yaml"), env=SMALL, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "memory allocation" not in result.stderr and "Traceback" not in result.stderr
    text = json.dumps(json.loads(result.stdout))
    assert "policy K8sHungry/c exceeded its budget (memory: 128 MB)" in text
    assert "needs an owner label" in text  # the other constraint was evaluated


def test_a_template_whose_compilation_runs_away_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(NESTED)
    (tmp_path / "pod.yaml").write_text(pod())
    result = run_limited(
        "k8s", "scan", "--policy", str(tmp_path / "policy.yaml"), str(tmp_path / "pod.yaml"),
        env={"SEAWALL_POLICY_TIMEOUT": "1"}, timeout=60,
    )  # fmt: skip
    assert_one_line_refusal(result, "template k8snested exceeded its budget (time: 1s)")


def test_a_template_that_does_not_compile_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(OWNER.replace("not input", "not not not"))
    (tmp_path / "pod.yaml").write_text(pod())
    result = run_limited(
        "k8s", "scan", "--policy", str(tmp_path / "policy.yaml"), str(tmp_path / "pod.yaml")
    )
    assert_one_line_refusal(result, "k8sowner: Rego does not compile")


def test_a_bad_budget_variable_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(pod())
    result = run_limited(
        "k8s", "scan", str(tmp_path / "pod.yaml"), env={"SEAWALL_POLICY_TIMEOUT": "soon"}
    )
    assert_one_line_refusal(result, "SEAWALL_POLICY_TIMEOUT", "not a number")


def test_verify_fails_the_case_of_a_template_over_budget(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(HUNGRY.split("\n---\n")[0] + "\n")
    (tmp_path / "constraint.yaml").write_text("---\n" + HUNGRY.split("\n---\n")[1])
    (tmp_path / "pod.yaml").write_text(pod())
    (tmp_path / "suite.yaml").write_text(
        "kind: Suite\napiVersion: test.gatekeeper.sh/v1alpha1\nmetadata: {name: hungry}\n"
        "tests:\n- name: hungry\n  template: template.yaml\n  constraint: constraint.yaml\n"
        "  cases:\n  - name: pod\n    object: pod.yaml\n    assertions: [{violations: no}]\n"
    )
    result = run_limited("policy", "verify", str(tmp_path / "suite.yaml"), env=SMALL, timeout=60)
    assert result.returncode == 1, result.stderr
    assert "exceeded its budget (memory: 128 MB)" in result.stdout
    assert result.stdout.splitlines()[-1] == "0 passed, 1 failed"


def test_the_webhook_process_survives_a_template_over_budget(tmp_path: Path) -> None:
    certs = issue(["localhost"])
    (tmp_path / "tls.crt").write_bytes(certs.cert)
    (tmp_path / "tls.key").write_bytes(certs.key)
    (tmp_path / "ca.crt").write_bytes(certs.ca_cert)
    (tmp_path / "policy.yaml").write_text(HUNGRY)
    process = subprocess.Popen(
        [sys.executable, "-m", "seawall", "admission", "serve", "--host", "127.0.0.1",
         "--port", "0", "--cert", str(tmp_path / "tls.crt"), "--key", str(tmp_path / "tls.key"),
         "--policy", str(tmp_path / "policy.yaml"), "--no-builtin",
         "--failure-policy", "ignore", "--decision-log", str(tmp_path / "log.jsonl")],
        stderr=subprocess.PIPE, text=True, env={**os.environ, **SMALL},
    )  # fmt: skip
    try:
        assert process.stderr is not None
        port = int(process.stderr.readline().rsplit(":", 1)[1])
        context = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
        with httpx.Client(base_url=f"https://localhost:{port}", verify=context) as client:
            for uid in ("u-1", "u-2"):  # the second one finds a fresh worker
                body = {
                    "apiVersion": "admission.k8s.io/v1",
                    "kind": "AdmissionReview",
                    "request": {"uid": uid, "namespace": "team", "object": _pod_object()},
                }
                response = client.post("/validate", json=body).json()["response"]
                assert response["allowed"] is True
                assert "K8sHungry/c exceeded its budget (memory" in response["warnings"][0]
            assert client.get("/healthz").status_code == 200
        assert process.poll() is None
    finally:
        process.terminate()
        process.wait(timeout=10)


def _pod_object() -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "team"},
        "spec": {"containers": [{"name": "a", "image": "nginx"}]},
    }
