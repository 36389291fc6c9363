"""The README's path, for real: ``seawall serve`` in its own process on SQLite, an owner and a
token from ``seawall admin``, and every engine command uploading to it with ``--upload``
(the report still printed, ``--fail-on`` still honoured); an unreachable or refusing center
is exit 3 with one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.advisorydb import DEMO_IMAGE, demo_database
from tests.support.centerproc import PASSWORD, Server, free_port, running_center, seawall
from tests.support.envelopes import DEMO_CONFIG, K8S_AUDIT, WORKLOADS


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("center")
    with running_center(base / "data", demo_database(base / "advisories")) as running:
        value = running.token
        assert value.startswith("swt_") and len(value) > 40
        yield running


def upload_args(server: Server) -> list[str]:
    return ["--upload", server.url, "--token", server.token]


def test_serve_answers_only_with_authentication(server: Server) -> None:
    assert httpx.get(server.url + "/api/v1/images").status_code == 401
    assert httpx.get(server.url + "/overview", follow_redirects=False).status_code == 303
    status = server.get("/api/v1/status").json()
    assert status["advisory_database"]["path"] == str(server.db)
    assert status["advisory_database"]["present"] and status["database"].startswith("sqlite")


def test_image_scan_uploads_and_still_fails_the_ci_step(server: Server) -> None:
    result = seawall("image", "scan", str(DEMO_IMAGE), "--db", str(server.db), "--fail-on",
                     "high", *upload_args(server))  # fmt: skip
    assert result.returncode == 1, result.stderr  # the CI gate still holds
    assert "CVE-2026-0002" in result.stdout  # the report is still printed
    assert f"uploaded image-scan of seawall/demo:1.0 to {server.url}" in result.stderr
    image = server.get(f"/api/v1/images/{DEMO_CONFIG}").json()
    assert image["healthy"] is False and image["counts"]["total"] == 4


def test_sbom_upload_is_matched_by_the_center(server: Server) -> None:
    result = seawall("sbom", str(DEMO_IMAGE), "-f", "json", *upload_args(server))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kind"] == "inventory"
    assert "uploaded inventory" in result.stderr


def test_manifests_and_audit_logs_upload(server: Server) -> None:
    k8s = seawall("k8s", "scan", str(WORKLOADS), "--name", "shop", *upload_args(server))
    assert k8s.returncode == 0, k8s.stderr
    assert "uploaded k8s-scan of shop" in k8s.stderr
    assert [c["name"] for c in server.get("/api/v1/clusters").json()["items"]] == ["shop"]
    replay = seawall("runtime", "replay", "--cluster", "shop",
                     *map(str, sorted(K8S_AUDIT.glob("*.json"))), *upload_args(server))  # fmt: skip
    assert replay.returncode == 1  # alerts were raised
    assert "uploaded alerts of shop" in replay.stderr
    alerts = server.get("/api/v1/alerts").json()
    assert alerts["total"] == 8
    # the audit log's cluster is the scanned cluster, matched by name
    assert len(server.get("/api/v1/clusters").json()["items"]) == 1


def test_watch_sends_alerts_as_they_happen(server: Server, tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    log.write_text("")
    watch = subprocess.Popen(
        [sys.executable, "-m", "seawall", "runtime", "watch", "--audit-log", str(log),
         "--no-docker", "--auditd-log", str(tmp_path / "none.log"), "--cluster", "watched",
         "--duration", "20", "-o", str(tmp_path / "alerts.jsonl"), *upload_args(server)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    (tmp_path / "none.log").write_text("")
    try:
        time.sleep(2)
        with log.open("a") as out:
            out.write((K8S_AUDIT / "exec_pod.json").read_text())
        deadline = time.monotonic() + 30
        found: list[dict] = []
        while time.monotonic() < deadline and not found:
            alerts = server.get("/api/v1/alerts", token=None).json()["items"]
            found = [a for a in alerts if a["rule"] == "runtime/k8s-exec-attach"
                     and a["asset"]["name"] != "shop"]  # fmt: skip
            time.sleep(0.3)
        assert found, "the watcher's alert did not reach the center"
    finally:
        watch.terminate()
        watch.wait(30)


@pytest.mark.docker
def test_host_audit_uploads(server: Server) -> None:
    host = os.environ.get("SEAWALL_TEST_DOCKER_HOST")
    if not host:
        pytest.fail("the Docker test engine is not up (scripts/testenv/up)")
    result = seawall("host", "audit", "-H", host, "--checks", "2,5", *upload_args(server))
    assert result.returncode == 0, result.stderr
    assert "uploaded host-audit" in result.stderr
    hosts = server.get("/api/v1/hosts").json()["items"]
    assert len(hosts) == 1 and hosts[0]["docker_version"]


def test_unreachable_refusing_and_tokenless_centers(server: Server) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    down = seawall("sbom", str(DEMO_IMAGE), "--upload", nowhere, "--token", server.token)
    assert down.returncode == 3
    assert down.stderr.strip().count("\n") == 0 and "upload to" in down.stderr
    assert "Traceback" not in down.stderr
    refused = seawall("sbom", str(DEMO_IMAGE), "--upload", server.url, "--token", "swt_wrong")
    assert refused.returncode == 3 and "refused: HTTP 401" in refused.stderr
    reader = seawall("admin", "create-token", "viewer", "--role", "reader", "--data-dir",
                     str(server.data_dir)).stdout.strip()  # fmt: skip
    forbidden = seawall("sbom", str(DEMO_IMAGE), "--upload", server.url, "--token", reader)
    assert forbidden.returncode == 3 and "HTTP 403" in forbidden.stderr
    env = {k: v for k, v in os.environ.items() if k != "SEAWALL_TOKEN"}
    tokenless = subprocess.run(
        [sys.executable, "-m", "seawall", "sbom", str(DEMO_IMAGE), "--upload", server.url],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert tokenless.returncode == 2 and "needs a token" in tokenless.stderr
    via_env = seawall("sbom", str(DEMO_IMAGE), "--upload", server.url,
                      env={"SEAWALL_TOKEN": server.token})  # fmt: skip
    assert via_env.returncode == 0, via_env.stderr


def test_admin_refuses_bad_input(server: Server) -> None:
    again = seawall("admin", "create-user", "alice", "--role", "owner", "--password-stdin",
                    "--data-dir", str(server.data_dir), stdin=PASSWORD + "\n")  # fmt: skip
    assert again.returncode == 2 and "exists already" in again.stderr
    weak = seawall("admin", "create-user", "bob", "--password-stdin", "--data-dir",
                   str(server.data_dir), stdin="short\n")  # fmt: skip
    assert weak.returncode == 2 and "at least 10 characters" in weak.stderr
    role = seawall("admin", "create-token", "x", "--role", "admin", "--data-dir",
                   str(server.data_dir))  # fmt: skip
    assert role.returncode == 2 and "unknown role" in role.stderr
    scope = seawall("admin", "create-token", "x", "--scope", "galaxy:far", "--data-dir",
                    str(server.data_dir))  # fmt: skip
    assert scope.returncode == 2 and "invalid scope" in scope.stderr
    expiry = seawall("admin", "create-token", "x", "--expires", "soon", "--data-dir",
                     str(server.data_dir))  # fmt: skip
    assert expiry.returncode == 2 and "invalid duration" in expiry.stderr


def test_serve_on_postgresql(tmp_path: Path) -> None:
    """``--database postgresql://...`` migrates a new database and serves from it."""
    import uuid

    from tests.center.conftest import _postgres, _server

    name = f"seawall_test_{uuid.uuid4().hex[:12]}"
    _postgres(f'CREATE DATABASE "{name}"')
    user, host, port = _server()
    url = f"postgresql://{user}@{host}:{port}/{name}"
    try:
        made = seawall("admin", "create-token", "ci", "--role", "owner", "--database", url)
        assert made.returncode == 0, made.stderr
        listen = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "seawall", "serve", "--port", str(listen), "--database", url,
             "--data-dir", str(tmp_path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            answer = None
            while time.monotonic() < deadline and answer is None:
                try:
                    answer = httpx.get(
                        f"http://127.0.0.1:{listen}/api/v1/status",
                        headers={"Authorization": f"Bearer {made.stdout.strip()}"},
                    )
                except httpx.HTTPError:
                    time.sleep(0.2)
            assert answer is not None and answer.status_code == 200, answer
            assert answer.json()["database"].startswith("postgresql+pg8000://")
        finally:
            process.terminate()
            process.wait(30)
    finally:
        _postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_bad_database_url_is_one_line(tmp_path: Path) -> None:
    result = seawall("admin", "create-token", "x", "--database",
                     "postgresql://nobody@127.0.0.1:1/none")  # fmt: skip
    assert result.returncode == 3 and "cannot prepare the database" in result.stderr
    assert "Traceback" not in result.stderr
