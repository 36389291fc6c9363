"""Proof that the real test services of scripts/testenv work as the other tests expect.

Builds a tiny FROM-scratch image holding the host's static busybox, runs it on the
private engine, pushes it to the open, basic-auth and token-auth registries and checks
over plain HTTP that the protected registries really refuse anonymous and forged
access and accept the right credentials (for the token registry: via the token flow).
"""

from __future__ import annotations

import base64
import importlib.util
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType

import docker
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.support.testenv import TESTENV_SCRIPTS, BuildImage, PushImage, Registry, SeawallTestEnv

BUSYBOX = Path("/bin/busybox")
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


@pytest.fixture(scope="module")
def tiny_image(build_image: BuildImage, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One-layer image: just /bin/busybox (static, from busybox-static)."""
    context = tmp_path_factory.mktemp("tiny-image")
    shutil.copy2(BUSYBOX, context / "busybox")
    (context / "Dockerfile").write_text(
        "FROM scratch\n"
        "COPY busybox /bin/busybox\n"
        'ENTRYPOINT ["/bin/busybox"]\n'
        'CMD ["echo", "tiny image says hi"]\n'
    )
    return build_image(context, f"seawall-test/tiny:{uuid.uuid4().hex[:8]}")


@pytest.fixture()
def http() -> httpx.Client:
    """Plain HTTP client that ignores proxy settings of the environment."""
    return httpx.Client(trust_env=False, timeout=30)


def _token_server_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "token_server", TESTENV_SCRIPTS / "token_server.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("token_server", module)
    spec.loader.exec_module(module)
    return module


def _repo_and_tag(ref: str) -> tuple[str, str]:
    """ "127.0.0.1:PORT/some/repo:tag" -> ("some/repo", "tag")."""
    repo, _, tag = ref.split("/", 1)[1].rpartition(":")
    return repo, tag


def _tags_url(reg: Registry, ref: str) -> str:
    return f"{reg.url}/v2/{_repo_and_tag(ref)[0]}/tags/list"


def _bearer_challenge(reply: httpx.Response) -> dict[str, str]:
    header = reply.headers["WWW-Authenticate"]
    assert header.startswith("Bearer ")
    return dict(re.findall(r'(\w+)="([^"]*)"', header))


def test_engine_is_private_vfs(docker_client: docker.DockerClient, testenv: SeawallTestEnv) -> None:
    info = docker_client.info()
    assert info["Driver"] == "vfs"
    assert info["DockerRootDir"] == str(testenv.state_dir / "docker-data")
    assert testenv.docker_host == f"unix://{testenv.state_dir}/docker.sock"


def test_tiny_image_runs(
    docker_client: docker.DockerClient, testenv: SeawallTestEnv, tiny_image: str
) -> None:
    image = docker_client.images.get(tiny_image)
    assert len(image.attrs["RootFS"]["Layers"]) == 1
    assert testenv.docker("run", "--rm", tiny_image) == "tiny image says hi\n"
    out = docker_client.containers.run(
        tiny_image, ["echo", "hello", "seawall"], remove=True, network_mode="none"
    )
    assert out == b"hello seawall\n"


def test_up_is_idempotent(testenv: SeawallTestEnv) -> None:
    proc = subprocess.run(
        [str(TESTENV_SCRIPTS / "up")],
        env={
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "SEAWALL_TESTENV": str(testenv.state_dir),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "already up" in proc.stderr
    assert proc.stdout == (testenv.state_dir / "env").read_text()


def test_push_open_registry(
    tiny_image: str,
    push_image: PushImage,
    registry: Registry,
    http: httpx.Client,
    docker_client: docker.DockerClient,
) -> None:
    ref = push_image(tiny_image, registry)
    assert ref.startswith(f"{registry.host}/seawall-test/tiny:")
    reply = http.get(_tags_url(registry, ref))
    assert reply.status_code == 200
    repo, tag = _repo_and_tag(ref)
    # (a registry reused across runs holds earlier runs' tags too)
    assert reply.json()["name"] == repo and tag in reply.json()["tags"]
    # The manifest digest the registry serves is the one the engine recorded on push.
    manifest = http.head(
        f"{registry.url}/v2/{repo}/manifests/{tag}", headers={"Accept": MANIFEST_V2}
    )
    assert manifest.status_code == 200
    digest = manifest.headers["Docker-Content-Digest"]
    repo_digests = docker_client.images.get(tiny_image).attrs["RepoDigests"]
    assert f"{registry.host}/{repo}@{digest}" in repo_digests


def test_push_basic_registry(
    tiny_image: str, push_image: PushImage, registry_basic: Registry, http: httpx.Client
) -> None:
    ref = push_image(tiny_image, registry_basic, repo="basic/tiny")
    url = _tags_url(registry_basic, ref)
    anonymous = http.get(url)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic ")
    assert http.get(url, auth=(registry_basic.user or "", "wrong-password")).status_code == 401
    reply = http.get(url, auth=registry_basic.auth)
    assert reply.status_code == 200
    assert reply.json()["name"] == "basic/tiny"
    assert _repo_and_tag(ref)[1] in reply.json()["tags"]


def test_push_token_registry(
    tiny_image: str,
    push_image: PushImage,
    registry_token: Registry,
    testenv: SeawallTestEnv,
    http: httpx.Client,
) -> None:
    ref = push_image(tiny_image, registry_token, repo="token/tiny")
    url = _tags_url(registry_token, ref)
    anonymous = http.get(url)
    assert anonymous.status_code == 401
    challenge = _bearer_challenge(anonymous)
    assert challenge == {
        "realm": testenv.token.realm,
        "service": testenv.token.service,
        "scope": "repository:token/tiny:pull",
    }
    params = {"service": challenge["service"], "scope": challenge["scope"]}
    denied = http.get(challenge["realm"], params=params, auth=(registry_token.user or "", "nope"))
    assert denied.status_code == 401
    granted = http.get(challenge["realm"], params=params, auth=registry_token.auth)
    assert granted.status_code == 200
    token = granted.json()["token"]
    reply = http.get(url, headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200
    assert reply.json()["name"] == "token/tiny"
    assert _repo_and_tag(ref)[1] in reply.json()["tags"]
    # The token is scoped: it does not open another repository.
    other = http.get(
        f"{registry_token.url}/v2/basic/tiny/tags/list",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert other.status_code == 401


def test_token_registry_verifies_signing_key(
    tiny_image: str,
    push_image: PushImage,
    registry_token: Registry,
    testenv: SeawallTestEnv,
    http: httpx.Client,
) -> None:
    """Registry 2.8 finds the key by x5c chain or by libtrust kid; forged keys fail."""
    ts = _token_server_module()
    ref = push_image(tiny_image, registry_token, repo="token/keys")
    key = serialization.load_pem_private_key(testenv.token.key_path.read_bytes(), None)
    cert = x509.load_pem_x509_certificate((testenv.token.key_path.parent / "cert.pem").read_bytes())
    x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
    kid = ts.libtrust_key_id(key.public_key())
    claims = ts.registry_claims(
        issuer=testenv.token.issuer,
        service=testenv.token.service,
        subject="test",
        scopes=["repository:token/keys:pull"],
        lifetime=60,
    )
    forger, _ = ts.make_key_and_cert("forger")

    def status(token: str) -> int:
        return http.get(
            _tags_url(registry_token, ref), headers={"Authorization": f"Bearer {token}"}
        ).status_code

    assert status(ts.sign_jwt(key, claims, kid=kid)) == 200
    assert status(ts.sign_jwt(key, claims, x5c=x5c)) == 200
    assert status(ts.sign_jwt(forger, claims, kid=kid)) == 401
    assert status(ts.sign_jwt(key, claims, kid=ts.libtrust_key_id(forger.public_key()))) == 401
    assert status(ts.sign_jwt(key, {**claims, "iss": "someone-else"}, kid=kid)) == 401


@pytest.mark.parametrize("which", ["registry", "registry_basic", "registry_token"])
def test_pull_back_and_run(
    which: str,
    request: pytest.FixtureRequest,
    build_image: BuildImage,
    push_image: PushImage,
    testenv: SeawallTestEnv,
    tmp_path: Path,
) -> None:
    """A fresh one-layer image, gone from the engine after the push, comes back by pull."""
    reg: Registry = request.getfixturevalue(which)
    marker = f"{which} {uuid.uuid4()}\n"
    shutil.copy2(BUSYBOX, tmp_path / "busybox")
    (tmp_path / "marker").write_text(marker)
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY busybox marker /bin/\n")
    tag = build_image(tmp_path)
    ref = push_image(tag, reg, repo=f"pull/{which.replace('_', '-')}")
    testenv.docker("rmi", tag, ref)
    testenv.docker("pull", "--quiet", ref)
    assert testenv.docker("run", "--rm", ref, "/bin/busybox", "cat", "/bin/marker") == marker
