"""Admission decisions reach the center: ``seawall admission serve --upload`` (a real
process over HTTPS, audit mode) reports each review to a real center (``seawall serve``),
which stores it once per review uid and lists it for the cluster; a center that is down
when the review happens gets it later."""

from __future__ import annotations

import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.advisorydb import demo_database
from tests.support.centerproc import Server, free_port, running_center, wait_for

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
       "spec": {"hostPID": True, "containers": [{"name": "a", "image": "nginx"}]}}  # fmt: skip


def _review(uid: str) -> dict[str, object]:
    request = {"uid": uid, "operation": "CREATE", "namespace": "team", "object": POD}
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


@pytest.fixture
def certs(tmp_path: Path) -> Path:
    from seawall.admission.certs import issue

    issued = issue(["localhost"])
    (tmp_path / "ca.crt").write_bytes(issued.ca_cert)
    (tmp_path / "tls.crt").write_bytes(issued.cert)
    (tmp_path / "tls.key").write_bytes(issued.key)
    return tmp_path


def _webhook(certs: Path, center_url: str, token: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "seawall", "admission", "serve", "--host", "127.0.0.1",
         "--port", "0", "--cert", str(certs / "tls.crt"), "--key", str(certs / "tls.key"),
         "--decision-log", str(certs / "decisions.jsonl"), "--mode", "audit",
         "--upload", center_url, "--token", token, "--cluster", "shop"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    line = process.stderr.readline()
    return process, int(line.rsplit(":", 1)[1])


def _decisions(server: Server) -> list[dict[str, object]]:
    answer = server.get("/api/v1/admission-decisions?cluster=shop")
    assert answer.status_code == 200, answer.text
    return list(answer.json())


@pytest.fixture
def center_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    base = tmp_path_factory.mktemp("center")
    yield base / "data", demo_database(base / "advisories")


def test_decisions_reach_the_center_once_even_across_its_restart(
    certs: Path, center_dir: tuple[Path, Path]
) -> None:
    data_dir, db = center_dir
    port = free_port()
    context = ssl.create_default_context(cafile=str(certs / "ca.crt"))
    with running_center(data_dir, db, port=port) as center:
        process, webhook_port = _webhook(certs, center.url, center.token)
        try:
            with httpx.Client(base_url=f"https://localhost:{webhook_port}", verify=context) as c:
                for uid in ("u-1", "u-1", "u-2"):  # the API server retried u-1
                    assert c.post("/validate", json=_review(uid)).json()["response"]["allowed"]
                listed = wait_for("two decisions", lambda: len(_decisions(center)) == 2)
                assert listed
                first = _decisions(center)
                assert {d["uid"] for d in first} == {"u-1", "u-2"}
                assert all(d["would_deny"] and d["mode"] == "audit" for d in first)
                violations = first[0]["violations"]
                assert isinstance(violations, list) and any("host" in v for v in violations)
                token = center.token
            # the center goes away; a review happens meanwhile
            center.process.terminate()
            center.process.wait(30)
            with httpx.Client(base_url=f"https://localhost:{webhook_port}", verify=context) as c:
                assert c.post("/validate", json=_review("u-3")).json()["response"]["allowed"]
            with running_center(data_dir, db, port=port) as again:
                again.token = token
                wait_for("the decision made while the center was down",
                      lambda: len(_decisions(again)) == 3, seconds=60)  # fmt: skip
                assert [d["uid"] for d in _decisions(again)].count("u-1") == 1
                denied = again.get("/api/v1/admission-decisions?verdict=denied").json()
                assert len(denied) == 3
        finally:
            process.terminate()
            process.wait(30)
