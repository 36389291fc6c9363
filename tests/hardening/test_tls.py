"""2.7 (TLS authentication) against a real dockerd serving ``tcp://127.0.0.1:PORT`` with
``--tlsverify``: a private test engine (``$SEAWALL_TESTENV-t``) whose daemon.json sets
``hosts``, ``tlsverify``, ``tlscacert``, ``tlscert`` and ``tlskey`` (scripts/testenv/up adds
its unix socket to those hosts). The CA and server certificate come from
seawall.admission.certs; the client certificate is signed here with the same CA."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from seawall.admission.certs import issue
from tests.hardening.conftest import AuditedHost, free_port


def _client_certificate(ca_cert: bytes, ca_key: bytes) -> tuple[bytes, bytes]:
    """A client certificate (clientAuth) signed by the test CA, and its key (PEM)."""
    ca = x509.load_pem_x509_certificate(ca_cert)
    signer = serialization.load_pem_private_key(ca_key, password=None)
    assert isinstance(signer, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "seawall-client")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(signer, hashes.SHA256())
    )
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())  # fmt: skip
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


@pytest.fixture(scope="module")
def tls_host(host_env_factory, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """``(tcp endpoint, client cert dir)`` of a dockerd requiring client certificates."""
    server = tmp_path_factory.mktemp("tls-server")
    client = tmp_path_factory.mktemp("tls-client")
    certs = issue(["127.0.0.1"], days=1, common_name="seawall-test-dockerd")
    (server / "ca.pem").write_bytes(certs.ca_cert)
    (server / "server-cert.pem").write_bytes(certs.cert)
    (server / "server-key.pem").write_bytes(certs.key)
    (server / "server-key.pem").chmod(0o400)
    client_cert, client_key = _client_certificate(certs.ca_cert, certs.ca_key)
    (client / "ca.pem").write_bytes(certs.ca_cert)
    (client / "cert.pem").write_bytes(client_cert)
    (client / "key.pem").write_bytes(client_key)
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    daemon_json = server / "daemon.json"
    daemon_json.write_text(json.dumps({
        "hosts": [endpoint], "tlsverify": True, "tlscacert": str(server / "ca.pem"),
        "tlscert": str(server / "server-cert.pem"), "tlskey": str(server / "server-key.pem"),
    }))  # fmt: skip
    env = host_env_factory("t", daemon_json)
    assert env.docker_host.startswith("unix://")  # the unix socket still serves the CLI
    return endpoint, client


def _audit(*args: str) -> dict[tuple[str, str], tuple[str, str]]:
    proc = subprocess.run(
        [sys.executable, "-m", "seawall", "host", "audit", "-f", "json", *args],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)["results"]
    return {
        (r["rule"].removeprefix("cis-docker-1.6/"), r["resource"]["kind"]): (
            r["status"],
            r["evidence"],
        )
        for r in results
    }


def test_tls_endpoint_with_client_certificate(tls_host: tuple[str, Path]) -> None:
    endpoint, client = tls_host
    got = _audit("-H", endpoint, "--cert-path", str(client), "--checks", "2,3.7,3.9,3.11,3.13")
    status, evidence = got[("2.7", "host")]
    assert status == "pass"
    assert evidence == f"{endpoint} with daemon.json tlsverify=true"
    assert got[("2.6", "host")] == ("pass", "storage driver vfs")  # the API answered over TLS
    assert got[("3.9", "host")][0] == "pass"  # the CA file named by daemon.json, root:root 644
    assert got[("3.13", "host")][0] == "pass"  # the server key, root:root


def test_tls_endpoint_without_client_certificate(tls_host: tuple[str, Path]) -> None:
    endpoint, _ = tls_host
    got = _audit("-H", endpoint, "--checks", "2")  # plain HTTP to a TLS port
    status, evidence = got[("2.6", "host")]
    assert status == "error" and endpoint.removeprefix("tcp://") in evidence, evidence
    assert "Client sent an HTTP request to an HTTPS server" in evidence
    assert got[("2.7", "host")][0] == "pass"  # read from dockerd's configuration, not the API


def test_plain_unix_socket_has_no_tls_check(careless_host: AuditedHost) -> None:
    got = _audit("-H", careless_host.endpoint, "--checks", "2.6,2.7")
    assert got[("2.7", "host")] == ("not_applicable", "the daemon does not listen on TCP")
