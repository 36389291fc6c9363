"""A real webhook over HTTPS on a loopback port, with certificates issued by Seawall's own
CA code, and an httpx client that verifies them."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from seawall.admission.certs import issue
from seawall.admission.decide import AdmissionSettings, Decider, DecisionLog
from seawall.admission.server import WebhookServer, tls_context
from seawall.policy.engine import PolicyEngine


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
