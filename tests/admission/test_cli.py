"""``seawall admission install`` and ``serve`` as an operator runs them."""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from seawall.policy.engine import PolicyEngine
from seawall.policy.manifests import load_manifests


def seawall(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seawall", *args], capture_output=True, text=True, timeout=120
    )


def test_install_writes_certificates_and_manifests(tmp_path: Path) -> None:
    result = seawall(
        "admission",
        "install",
        "--output-dir",
        str(tmp_path),
        "--namespace",
        "guard",
        "--failure-policy",
        "ignore",
        "--timeout",
        "4",
    )
    assert result.returncode == 0, result.stderr
    assert {p.name for p in tmp_path.iterdir()} == {
        "ca.crt",
        "ca.key",
        "tls.crt",
        "tls.key",
        "webhook.yaml",
    }
    assert (tmp_path / "tls.key").stat().st_mode & 0o077 == 0
    documents = list(yaml.safe_load_all((tmp_path / "webhook.yaml").read_text()))
    assert [d["kind"] for d in documents] == [
        "Secret",
        "Service",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
        "ValidatingWebhookConfiguration",
    ]
    # The namespace cache may list and watch Namespaces, as the Deployment's account, in-cluster.
    account, role, binding, deployment = documents[2:6]
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list", "watch"]}
    ]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": "guard"}
    ]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    assert pod["automountServiceAccountToken"] is True
    assert "--in-cluster" in pod["containers"][0]["args"]
    (webhook,) = documents[6]["webhooks"]
    assert webhook["failurePolicy"] == "Ignore" and webhook["timeoutSeconds"] == 4
    assert (
        base64.b64decode(webhook["clientConfig"]["caBundle"]) == (tmp_path / "ca.crt").read_bytes()
    )
    assert webhook["clientConfig"]["service"] == {
        "name": "seawall-admission",
        "namespace": "guard",
        "path": "/validate",
        "port": 443,
    }
    # The certificate is valid for the Service's DNS name, under the CA written beside it.
    context = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
    context.load_cert_chain(tmp_path / "tls.crt", tmp_path / "tls.key")
    # Seawall's own Deployment passes the Pod Security Standards it enforces.
    objects = [
        o for o in load_manifests([str(tmp_path / "webhook.yaml")]) if o.kind == "Deployment"
    ]
    rules = {d.finding.rule.id for d in PolicyEngine().evaluate(objects[0])}
    assert not {r for r in rules if r.startswith("pss-")}


def test_serve_answers_over_https_until_stopped(tmp_path: Path) -> None:
    from seawall.admission.certs import issue

    certs = issue(["localhost"])
    (tmp_path / "ca.crt").write_bytes(certs.ca_cert)
    (tmp_path / "tls.crt").write_bytes(certs.cert)
    (tmp_path / "tls.key").write_bytes(certs.key)
    log = tmp_path / "decisions.jsonl"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seawall",
            "admission",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--cert",
            str(tmp_path / "tls.crt"),
            "--key",
            str(tmp_path / "tls.key"),
            "--decision-log",
            str(log),
            "--mode",
            "audit",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        port = int(line.rsplit(":", 1)[1])
        context = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
        with httpx.Client(base_url=f"https://localhost:{port}", verify=context) as client:
            body = {
                "apiVersion": "admission.k8s.io/v1",
                "kind": "AdmissionReview",
                "request": {
                    "uid": "u-1",
                    "operation": "CREATE",
                    "namespace": "team",
                    "object": {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "metadata": {"name": "p"},
                        "spec": {"hostPID": True, "containers": [{"name": "a", "image": "nginx"}]},
                    },
                },
            }
            response = client.post("/validate", json=body).json()["response"]
        assert response == {"uid": "u-1", "allowed": True}
        deadline = time.monotonic() + 5
        while not log.exists() or not log.read_text():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        entry = json.loads(log.read_text().splitlines()[0])
        assert entry["would_deny"] is True and entry["mode"] == "audit"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_with_a_missing_certificate_is_one_error_line(tmp_path: Path) -> None:
    result = seawall(
        "admission", "serve", "--cert", str(tmp_path / "no.crt"), "--key", str(tmp_path / "no.key")
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error:") and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--read-timeout=0", "read timeout must be a positive"),
        ("--max-connections=0", "limits must be positive"),
        ("--max-in-flight=-1", "limits must be positive"),
    ],
)
def test_serve_refuses_limits_that_are_not_positive(
    tmp_path: Path, option: str, message: str
) -> None:
    from seawall.admission.certs import issue

    certs = issue(["localhost"])
    (tmp_path / "tls.crt").write_bytes(certs.cert)
    (tmp_path / "tls.key").write_bytes(certs.key)
    result = seawall(
        "admission", "serve", "--cert", str(tmp_path / "tls.crt"),
        "--key", str(tmp_path / "tls.key"), option,
    )  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and message in line
