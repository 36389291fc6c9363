"""``seawall runtime watch`` pipeline: audit webhook, followed audit and auditd logs."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from seawall.errors import InputError
from seawall.runtime.watch import WatchConfig, Watcher, build_watcher
from tests.runtime.conftest import AUDITD, K8S, builtin_rules


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Callable[[WatchConfig], Watcher]]:
    started: list[tuple[Watcher, threading.Thread]] = []

    def start(config: WatchConfig) -> Watcher:
        config.output = tmp_path / "alerts.jsonl"
        config.docker = False
        if config.auditd_logs is None:
            config.auditd_logs = []
        watcher = build_watcher(builtin_rules(), config)
        thread = threading.Thread(target=watcher.run, daemon=True)
        thread.start()
        started.append((watcher, thread))
        return watcher

    yield start
    for watcher, thread in started:
        watcher.stop()
        thread.join(10)
        assert not thread.is_alive()


def wait_for(
    path: Path, predicate: Callable[[list[dict]], bool], timeout: float = 20
) -> list[dict]:
    deadline = time.time() + timeout
    records: list[dict] = []
    while time.time() < deadline:
        if path.exists():
            records = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
            if predicate(records):
                return records
        time.sleep(0.1)
    return records


def rules_of(records: list[dict]) -> list[str]:
    """The rule ids of streamed alert records, without the ``runtime/`` namespace they carry."""
    assert all(r["rule"].startswith("runtime/") for r in records), records
    return sorted(r["rule"].removeprefix("runtime/") for r in records)


JSON = {"Content-Type": "application/json"}  # what the API server sends


def sample(name: str) -> list[dict]:
    return [json.loads(x) for x in (K8S / name).read_text().splitlines()]


def test_audit_webhook_receives_eventlists(running, tmp_path: Path) -> None:
    watcher = running(WatchConfig(audit_webhook="127.0.0.1:0"))
    url = f"http://127.0.0.1:{watcher.webhook_port}/audit"
    items = sample("create_nginx_pod_privileged.json") + sample("create_deployment.json")
    batch = {"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": items}
    with httpx.Client() as client:
        assert client.post(url, json=batch).status_code == 200
        bad = client.post(url, content=b"{not json", headers=JSON)
        assert bad.status_code == 200  # counted, not fatal
        assert client.post(url, json={"kind": 0}).status_code == 200
        batch2 = {
            "kind": "EventList",
            "apiVersion": "audit.k8s.io/v1",
            "items": sample("exec_pod.json"),
        }
        assert client.post(url, json=batch2).status_code == 200
    records = wait_for(tmp_path / "alerts.jsonl", lambda r: len(r) >= 2)
    assert rules_of(records) == ["k8s-exec-attach", "k8s-privileged-container"]
    assert watcher.bad.counts == {"malformed JSON": 1, "non-audit JSON": 1}


def test_webhook_flood_is_answered_and_counted(running, tmp_path: Path) -> None:
    watcher = running(WatchConfig(audit_webhook="127.0.0.1:0"))
    url = f"http://127.0.0.1:{watcher.webhook_port}/audit"
    benign = {
        "kind": "EventList",
        "apiVersion": "audit.k8s.io/v1",
        "items": sample("create_deployment.json") * 50,
    }
    body = json.dumps(benign).encode()
    codes: list[int] = []

    def flood() -> None:
        with httpx.Client() as client:
            codes.extend(
                client.post(url, content=body, headers=JSON).status_code for _ in range(150)
            )

    threads = [threading.Thread(target=flood) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert codes == [200] * 600
    with socket.create_connection(("127.0.0.1", watcher.webhook_port), timeout=10) as raw:
        raw.sendall(
            b"POST /audit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 67108864\r\n\r\nxx"
        )
        assert raw.recv(100).startswith(b"HTTP/1.1 413")
    with httpx.Client() as client:
        probe = {
            "kind": "EventList",
            "apiVersion": "audit.k8s.io/v1",
            "items": sample("exec_pod.json"),
        }
        assert client.post(url, json=probe).status_code == 200
    records = wait_for(tmp_path / "alerts.jsonl", lambda r: len(r) >= 1, timeout=60)
    assert rules_of(records) == ["k8s-exec-attach"]
    assert "refused webhook request" in watcher.bad.counts


def _status(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(request)
        return raw.recv(100).split(b"\r\n", 1)[0]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (b"Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 2", b"400"),
        (b"Content-Type: application/json\r\nContent-Length: 2\r\n"
         b"Transfer-Encoding: chunked", b"400"),
        (b"Content-Type: text/plain\r\nContent-Length: 2", b"415"),
        (b"Content-Type: application/json", b"411"),
        (b"Content-Type: application/json\r\nContent-Length: -2", b"400"),
        (b"X-Big: " + b"a" * 40_000, b"431"),
    ],
)  # fmt: skip
def test_webhook_refuses_smuggling_shapes_and_keeps_answering(
    running, headers: bytes, status: bytes
) -> None:
    watcher = running(WatchConfig(audit_webhook="127.0.0.1:0"))
    request = b"POST /audit HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n\r\n{}"
    assert _status(watcher.webhook_port, request).split(b" ")[1] == status
    with httpx.Client() as client:
        assert client.get(f"http://127.0.0.1:{watcher.webhook_port}/healthz").status_code == 200


def test_webhook_cuts_off_a_slow_client_and_a_silent_tls_one(running, tmp_path: Path) -> None:
    """A client that trickles its request, and one that connects over TLS and says nothing,
    hold neither the accept loop nor a thread for long: others are answered meanwhile."""
    ca, cert, key = serving_certificate(tmp_path)
    watcher = running(WatchConfig(audit_webhook="127.0.0.1:0", tls_cert=cert, tls_key=key))
    port = watcher.webhook_port
    silent = socket.create_connection(("127.0.0.1", port), timeout=30)  # no ClientHello
    context = ssl.create_default_context(cafile=str(ca))
    with httpx.Client(verify=context, timeout=5) as client:
        assert client.get(f"https://127.0.0.1:{port}/healthz").status_code == 200
    slow = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30),
                               server_hostname="127.0.0.1")  # fmt: skip
    started = time.monotonic()
    slow.sendall(b"POST /audit HTTP/1.1\r\n")
    closed = False
    while time.monotonic() - started < 25:
        try:
            slow.sendall(b"X: y\r\n")
        except OSError:
            closed = True
            break
        time.sleep(0.5)
    assert closed, "a request trickled for 25 s was not cut off"
    assert time.monotonic() - started < 15  # the read deadline is 10 s
    slow.close()
    silent.close()


def test_audit_log_is_followed_from_its_end_across_rotation(running, tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    log.write_bytes((K8S / "create_nginx_pod_privileged.json").read_bytes())  # before start
    running(WatchConfig(audit_logs=[log]))
    time.sleep(0.5)
    line = (K8S / "exec_pod.json").read_bytes().strip()
    with log.open("ab") as f:
        f.write(line[:40])  # a line written in two pieces
        f.flush()
        time.sleep(0.4)
        f.write(line[40:] + b"\n{garbage\n")
    out = tmp_path / "alerts.jsonl"
    assert rules_of(wait_for(out, lambda r: len(r) >= 1)) == ["k8s-exec-attach"]
    log.rename(tmp_path / "audit.log.1")
    log.write_bytes((K8S / "attach_cluster_admin_role.json").read_bytes())
    records = wait_for(out, lambda r: len(r) >= 2)
    assert rules_of(records) == ["k8s-cluster-admin-binding", "k8s-exec-attach"]
    log.write_bytes(b"")  # truncated in place, then written again
    time.sleep(0.5)
    with log.open("ab") as f:
        f.write((K8S / "create_cluster_role_wildcard_verbs.json").read_bytes())
    records = wait_for(out, lambda r: len(r) >= 3)
    assert "k8s-high-privilege-role" in rules_of(records)
    assert "k8s-privileged-container" not in rules_of(records)


def test_auditd_log_is_followed(running, tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    log.write_text((AUDITD / "attack.log").read_text())  # history: not alerted
    running(WatchConfig(auditd_logs=[log]))
    time.sleep(0.5)
    lines = (AUDITD / "attack.log").read_text().splitlines()
    first_event = lines[: lines.index(next(x for x in lines if x.startswith("type=EOE"))) + 1]
    with log.open("a") as f:
        f.write((AUDITD / "benign.log").read_text())
        f.write("\n".join(first_event) + "\n")
    records = wait_for(tmp_path / "alerts.jsonl", lambda r: len(r) >= 1)
    assert rules_of(records) == ["host-reverse-shell"]


def test_nothing_to_watch_is_an_input_error() -> None:
    with pytest.raises(InputError, match="nothing to watch"):
        build_watcher(builtin_rules(), WatchConfig(docker=False, auditd_logs=[]))


def test_bad_webhook_address() -> None:
    with pytest.raises(InputError):
        build_watcher(
            builtin_rules(), WatchConfig(docker=False, auditd_logs=[], audit_webhook="nope")
        )


def serving_certificate(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(CA, certificate, key) PEM files for 127.0.0.1, from the admission webhook's issuer."""
    from seawall.admission.certs import issue

    certs = issue(["127.0.0.1"], days=1)
    paths = tmp_path / "ca.crt", tmp_path / "tls.crt", tmp_path / "tls.key"
    for path, data in zip(paths, (certs.ca_cert, certs.cert, certs.key), strict=True):
        path.write_bytes(data)
    return paths


def test_audit_webhook_over_tls(running, tmp_path: Path) -> None:
    ca, cert, key = serving_certificate(tmp_path)
    watcher = running(WatchConfig(audit_webhook="127.0.0.1:0", tls_cert=cert, tls_key=key))
    url = f"https://127.0.0.1:{watcher.webhook_port}/audit"
    batch = {"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": sample("exec_pod.json")}
    with httpx.Client(verify=ssl.create_default_context(cafile=str(ca))) as client:
        assert client.post(url, json=batch).status_code == 200
    records = wait_for(tmp_path / "alerts.jsonl", lambda r: len(r) >= 1)
    assert rules_of(records) == ["k8s-exec-attach"]
