"""A real webhook over HTTPS on a loopback port, with certificates issued by Seawall's own
CA code, and an httpx client that verifies them."""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from seawall.admission.certs import issue
from seawall.admission.decide import AdmissionSettings, Decider, DecisionLog
from seawall.admission.server import WebhookServer, tls_context
from seawall.policy.engine import PolicyEngine
from tests.policy.apiserver import FakeApi, api_server


@dataclass
class Webhook:
    url: str
    client: httpx.Client
    context: ssl.SSLContext  # trusts the webhook's CA
    log: Path
    server: WebhookServer

    def decisions(self) -> list[dict[str, object]]:
        import json

        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("certs")
    certs = issue(["localhost", "127.0.0.1"])
    (directory / "ca.crt").write_bytes(certs.ca_cert)
    (directory / "tls.crt").write_bytes(certs.cert)
    (directory / "tls.key").write_bytes(certs.key)
    return directory


StartWebhook = Callable[..., Webhook]


@pytest.fixture
def start_webhook(certificates: Path, tmp_path: Path) -> Iterator[StartWebhook]:
    started: list[Webhook] = []

    def start(engine: PolicyEngine | None = None, **settings: object) -> Webhook:
        log = tmp_path / f"decisions-{len(started)}.jsonl"
        stream = log.open("a", encoding="utf-8")
        decider = Decider(
            engine or PolicyEngine(), AdmissionSettings(**settings), DecisionLog(stream)
        )  # type: ignore[arg-type]
        server = WebhookServer(
            ("127.0.0.1", 0),
            decider,
            tls_context(certificates / "tls.crt", certificates / "tls.key"),
        )
        server.start_background("webhook")
        verify = ssl.create_default_context(cafile=str(certificates / "ca.crt"))
        client = httpx.Client(
            base_url=f"https://localhost:{server.port}", verify=verify, timeout=10
        )
        webhook = Webhook(f"https://localhost:{server.port}", client, verify, log, server)
        started.append(webhook)
        return webhook

    yield start
    for webhook in started:
        webhook.client.close()
        webhook.server.shutdown()
        webhook.server.server_close()


def eventually(condition: Callable[[], bool]) -> None:
    """Wait for a watch thread to apply what the server sent (not a timing: a bound)."""
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, "the watch did not catch up"
        time.sleep(0.02)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[FakeApi]:
    with api_server(tmp_path) as server:
        yield server


@contextmanager
def serving(tmp_path: Path, *arguments: str) -> Iterator[tuple[str, httpx.Client]]:
    """``seawall admission serve`` as a real process (its own certificate, port 0, a decision
    log in ``tmp_path``) with ``arguments``: what it printed up to "listening", and an HTTPS
    client for it; the process is stopped afterwards."""
    certs = issue(["localhost"])
    for name, data in (("ca.crt", certs.ca_cert), ("tls.crt", certs.cert), ("tls.key", certs.key)):
        (tmp_path / name).write_bytes(data)
    process = subprocess.Popen(
        [sys.executable, "-m", "seawall", "admission", "serve", "--host", "127.0.0.1",
         "--port", "0", "--cert", str(tmp_path / "tls.crt"), "--key", str(tmp_path / "tls.key"),
         "--decision-log", str(tmp_path / "decisions.jsonl"), *arguments],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        lines = [process.stderr.readline()]
        while "listening" not in lines[-1]:
            assert lines[-1], "".join(lines)
            lines.append(process.stderr.readline())
        port = int(lines[-1].rsplit(":", 1)[1])
        context = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
        with httpx.Client(base_url=f"https://localhost:{port}", verify=context) as client:
            yield "".join(lines), client
    finally:
        process.terminate()
        process.wait(timeout=10)
