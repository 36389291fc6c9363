"""Scale-out for real: a center on PostgreSQL publishing jobs to RabbitMQ (its own vhost),
two ``seawall worker`` processes, and a registry slowed down by a proxy so that a scan is
still running when its worker is killed with SIGKILL. The job is taken back, completed on
the other worker, and its result stored once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.support.advisorydb import DEMO_IMAGE, demo_database
from tests.support.centerproc import Server, running_center
from tests.support.envelopes import DEMO_CONFIG
from tests.support.testenv import Registry, SeawallTestEnv

pytestmark = pytest.mark.postgres
LEASE = "3"
BLOB_DELAY = 6.0  # seconds each layer download is held back


@pytest.fixture
def broker() -> Iterator[str]:
    vhost = f"seawall-test-{uuid.uuid4().hex[:10]}"
    subprocess.run(["rabbitmqctl", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
                   check=True, capture_output=True)  # fmt: skip
    yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True)


class _SlowProxy(BaseHTTPRequestHandler):
    """Relays GETs to the real registry, holding layer blobs back (a slow registry)."""

    upstream = ""

    def do_GET(self) -> None:
        headers = {
            k: v for k, v in self.headers.items() if k.lower() in ("accept", "authorization")
        }
        answer = httpx.get(self.upstream + self.path, headers=headers, timeout=60)
        if "/blobs/" in self.path and len(answer.content) > 10_000:
            time.sleep(BLOB_DELAY)
        self.send_response(answer.status_code)
        for name in ("content-type", "docker-content-digest", "www-authenticate"):
            if name in answer.headers:
                self.send_header(name, answer.headers[name])
        self.send_header("content-length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def slow_registry(registry: Registry) -> Iterator[str]:
    handler = type("Proxy", (_SlowProxy,), {"upstream": registry.url})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _worker(server: Server, broker: str, name: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "seawall", "worker", "--broker", broker, *server.where(),
         "--db", str(server.db), "--job-lease", LEASE, "--name", name, "--concurrency", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _job(server: Server, job_id: int) -> dict[str, object]:
    answer = server.get(f"/api/v1/jobs/{job_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_worker_killed_mid_scan_loses_nothing_and_stores_once(
    database_url: str,
    broker: str,
    slow_registry: str,
    registry: Registry,
    testenv: SeawallTestEnv,
    tmp_path: Path,
) -> None:
    testenv.docker("load", "--quiet", "--input", str(DEMO_IMAGE))
    testenv.docker("tag", "seawall/demo:1.0", f"{registry.host}/workers/demo:1.0")
    testenv.docker("push", "--quiet", f"{registry.host}/workers/demo:1.0")
    url = database_url.replace("postgresql+pg8000://", "postgresql://")
    advisories = demo_database(tmp_path / "advisories")
    options = ("--broker", broker, "--job-lease", LEASE)
    with running_center(
        tmp_path / "data", advisories, *options, role="owner", database=url
    ) as server:
        workers = {name: _worker(server, broker, name) for name in ("first", "second")}
        try:
            added = server.post("/api/v1/registries", {"url": f"http://{slow_registry}"})
            assert added.status_code == 201, added.text
            queued = server.post(f"/api/v1/registries/{added.json()['id']}/scan",
                                 {"image": "workers/demo:1.0"})  # fmt: skip
            assert queued.status_code == 202, queued.text
            job_id = queued.json()["id"]
            deadline = time.monotonic() + 60
            while _job(server, job_id)["state"] != "running":
                assert time.monotonic() < deadline, _job(server, job_id)
                time.sleep(0.1)
            victim = str(_job(server, job_id)["worker"]).split(":")[0]
            assert victim in workers
            ours = os.getpriority(os.PRIO_PROCESS, 0)  # workers yield the CPU to the API
            assert os.getpriority(os.PRIO_PROCESS, workers[victim].pid) == min(19, ours + 10)
            os.kill(workers[victim].pid, signal.SIGKILL)
            workers[victim].wait(10)
            deadline = time.monotonic() + 90
            while (job := _job(server, job_id))["state"] not in ("done", "failed"):
                assert time.monotonic() < deadline, job
                time.sleep(0.3)
            assert job["state"] == "done", job
            assert not str(job["worker"]).startswith(victim)
            assert job["attempts"] == 2 and "stopped answering" not in str(job["error"])
            scans = server.get("/api/v1/scans").json()["items"]
            assert [s["kind"] for s in scans] == ["image-scan"]  # stored once
            image = server.get(f"/api/v1/images/{DEMO_CONFIG}").json()
            assert image["counts"]["total"] == 4
        finally:
            for process in workers.values():
                if process.poll() is None:
                    process.terminate()
                    process.wait(30)
