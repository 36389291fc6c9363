"""Scan on push, for real: a center (``seawall serve``), Debian's ``docker-registry``
configured with the ``notifications:`` block ``seawall registry add`` printed, and
``docker push`` from the test Docker Engine. The pushed image appears in the center,
scanned, within seconds; forged notifications change nothing."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.advisorydb import DEMO_IMAGE, DEMO_RECORDS, demo_database
from tests.support.centerproc import Server, free_port, running_center, seawall, wait_for
from tests.support.envelopes import DEMO_CONFIG
from tests.support.smtp import running_smtp
from tests.support.testenv import Registry, SeawallTestEnv

EVENTS = "application/vnd.docker.distribution.events.v1+json"


@dataclass
class WatchedRegistry:
    host: str
    id: int
    secret: str
    process: subprocess.Popen[bytes]
    log: Path


def _start_registry(
    root: Path, port: int, notifications: dict[str, object]
) -> subprocess.Popen[bytes]:
    config = {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text"},
        "storage": {
            "filesystem": {"rootdirectory": str(root / "data")},
            "delete": {"enabled": True},
        },
        "http": {"addr": f"127.0.0.1:{port}", "secret": "test-only-secret"},
        **notifications,
    }
    (root / "config.yml").write_text(yaml.safe_dump(config))
    log = (root / "registry.log").open("wb")
    process = subprocess.Popen(
        ["docker-registry", "serve", str(root / "config.yml")], stdout=log, stderr=log
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.terminate()
    raise AssertionError((root / "registry.log").read_text())


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("center")
    with running_center(base / "data", demo_database(base / "advisories"), role="owner") as server:
        yield server


@pytest.fixture(scope="module")
def registry(center: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WatchedRegistry]:
    port = free_port()
    added = seawall("registry", "add", f"http://127.0.0.1:{port}", "--center", center.url,
                    "--token", center.token)  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "shown only once" in " ".join(added.stderr.split())
    block = yaml.safe_load(added.stdout)
    endpoint = block["notifications"]["endpoints"][0]
    assert endpoint["url"].startswith(center.url + "/api/v1/registries/")
    secret = endpoint["headers"]["Seawall-Registry-Secret"][0]
    registry_id = int(endpoint["url"].split("/")[-2])
    root = tmp_path_factory.mktemp("registry")
    process = _start_registry(root, port, block)
    yield WatchedRegistry(f"127.0.0.1:{port}", registry_id, secret, process, root / "registry.log")
    process.terminate()
    process.wait(30)


def test_a_pushed_image_is_scanned_shown_and_notified(
    center: Server, registry: WatchedRegistry, testenv: SeawallTestEnv, tmp_path: Path
) -> None:
    smtp = ExitStack()
    mail = smtp.enter_context(running_smtp(tmp_path / "maildir"))
    channel = center.post("/api/v1/notifications/channels", {
        "name": "security team", "kind": "email", "host": "127.0.0.1", "port": mail.port,
        "security": "none", "sender": "seawall@example.org", "recipients": ["sec@example.org"],
    })  # fmt: skip
    assert channel.status_code == 201, channel.text
    rule = center.post("/api/v1/notifications/rules", {
        "name": "unhealthy images", "channel_id": channel.json()["id"],
        "kinds": ["new_unhealthy_image"], "min_severity": "medium",
    })  # fmt: skip
    assert rule.status_code == 201, rule.text
    testenv.docker("load", "--quiet", "--input", str(DEMO_IMAGE))
    reference = f"{registry.host}/shop/demo:1.0"
    testenv.docker("tag", "seawall/demo:1.0", reference)
    pushed = time.monotonic()
    testenv.docker("push", "--quiet", reference)

    def scanned() -> object:
        answer = center.get(f"/api/v1/images/{DEMO_CONFIG}")
        return answer.json() if answer.status_code == 200 else None

    image = wait_for("the pushed image in the center", scanned)
    elapsed = time.monotonic() - pushed
    print(f"docker push -> scanned and visible: {elapsed:.1f} s")
    assert isinstance(image, dict)
    assert any(r.startswith(f"{registry.host}/shop/demo") for r in image["references"])
    assert image["counts"]["total"] == 4 and image["healthy"] is False
    with smtp:
        messages = mail.messages(expected=1, wait=30)
    assert len(messages) == 1, "one e-mail for the new unhealthy image"
    text = messages[0].decode()
    assert f"{registry.host}/shop/demo" in text and "unhealthy" in text.lower()
    assert "To: sec@example.org" in text
    outbox = center.get("/api/v1/notifications/outbox").json()
    assert [(row["kind"], row["state"]) for row in outbox] == [("new_unhealthy_image", "sent")]
    jobs = [j for j in center.get("/api/v1/jobs?state=done").json()["items"]
            if "shop/demo" in j["title"]]  # fmt: skip
    assert [job["title"] for job in jobs] == [f"scan {reference}@{_digest(registry, 'shop/demo')}"]
    assert jobs[0]["requested_by"] == f"registry:{registry.host}"
    watched = center.get(f"/api/v1/registries/{registry.id}").json()
    assert watched["images"] == 1 and watched["last_event_at"]
    # the same push again, and the pull it takes to check: no second scan
    testenv.docker("push", "--quiet", reference)
    testenv.docker("pull", "--quiet", reference)
    time.sleep(2)
    titles = [j["title"] for j in center.get("/api/v1/jobs").json()["items"]]
    assert len([t for t in titles if "shop/demo" in t]) == 1


def test_newer_advisories_reach_the_pushed_image_without_a_blob_request(
    center: Server, registry: WatchedRegistry
) -> None:
    """`seawall db import` of a newer advisory: the stored image is matched again from its
    inventory, within seconds, and not one blob is asked of the registry."""
    requests_before = _blob_requests(registry)
    records = [*DEMO_RECORDS, {
        **DEMO_RECORDS[1], "id": "GHSA-0000-demo-ms01", "aliases": ["CVE-2026-0011"],
        "summary": "ms: another regular expression denial of service",
    }]  # fmt: skip
    imported = time.monotonic()
    demo_database(center.db.parent, records)

    def flagged() -> object:
        image = center.get(f"/api/v1/images/{DEMO_CONFIG}").json()
        return image if image["counts"]["total"] == 5 else None

    wait_for("the new advisory on the stored image", flagged, seconds=30)
    print(f"db import -> image flagged: {time.monotonic() - imported:.1f} s")
    assert _blob_requests(registry) == requests_before
    found = center.get("/api/v1/findings?q=GHSA-0000-demo-ms01").json()
    assert [f["package"] for f in found["items"]] == ["ms"]


def _blob_requests(registry: WatchedRegistry) -> int:
    """How many blob requests the registry answered (lines of its access log; the center's
    periodic catalog listing reads tags and manifests, never blobs)."""
    return len(re.findall(r'"(?:GET|HEAD) /v2/[^ ]*/blobs/', registry.log.read_text()))


def test_forged_and_malformed_notifications_change_nothing(
    center: Server, registry: WatchedRegistry
) -> None:
    url = f"{center.url}/api/v1/registries/{registry.id}/events"
    event = {"events": [{"action": "push", "timestamp": "2026-12-04T00:00:00Z", "target": {
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "repository": "forged/app",
        "digest": "sha256:" + "ab" * 32, "tag": "1"}}]}  # fmt: skip
    before = center.get("/api/v1/jobs").json()["total"]
    unsigned = httpx.post(url, json=event, headers={"Content-Type": EVENTS})
    wrong = httpx.post(url, json=event, headers={"Seawall-Registry-Secret": "nope"})
    other = httpx.post(f"{center.url}/api/v1/registries/999/events", json=event,
                       headers={"Seawall-Registry-Secret": registry.secret})  # fmt: skip
    assert [r.status_code for r in (unsigned, wrong, other)] == [401, 401, 401]
    signed = {"Seawall-Registry-Secret": registry.secret, "Content-Type": EVENTS}
    garbage = httpx.post(url, content=b"{not json", headers=signed)
    nested = httpx.post(url, content=b'{"events": ' + b"[" * 5000 + b"]" * 5000 + b"}",
                        headers=signed)  # fmt: skip
    huge = httpx.post(url, content=b" " * (2 * 1024 * 1024), headers=signed)
    assert [r.status_code for r in (garbage, nested, huge)] == [422, 422, 413]
    bad_record = httpx.post(url, headers=signed, json={"events": [
        {"action": "push", "target": {"repository": "../../etc", "digest": "sha256:" + "0" * 64,
                                      "mediaType": "application/vnd.oci.image.manifest.v1+json"}},
        "not an event",
    ]})  # fmt: skip
    assert bad_record.status_code == 200
    assert bad_record.json()["queued"] == 0 and len(bad_record.json()["skipped"]) == 2
    assert center.get("/api/v1/jobs").json()["total"] == before


def _digest(registry: WatchedRegistry, repository: str) -> str:
    answer = httpx.head(
        f"http://{registry.host}/v2/{repository}/manifests/1.0",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json, "
                 "application/vnd.oci.image.manifest.v1+json"},
    )  # fmt: skip
    return answer.headers["Docker-Content-Digest"]


def test_a_multi_platform_push_is_scanned_platform_by_platform(
    center: Server, registry: WatchedRegistry
) -> None:
    from tests.support.imagebuild import Image, Layer
    from tests.support.push import push_index
    from tests.support.sample import OS_RELEASE, npm_package

    images = {
        f"linux/{arch}": Image(
            [Layer({"etc/os-release": OS_RELEASE,
                    f"app/node_modules/{name}/package.json": npm_package(name, "1.0.0")})],
            architecture=arch,
        )
        for arch, name in (("amd64", "left-pad"), ("arm64", "right-pad"))
    }  # fmt: skip
    push_index(f"http://{registry.host}", "multi/arch", "v1", images)

    def both_platforms() -> object:
        listed = center.get("/api/v1/images?q=multi/arch").json()["items"]
        return listed if len(listed) == 2 else None

    listed = wait_for("both platforms of the index", both_platforms)
    assert isinstance(listed, list)
    assert sorted(image["platform"] for image in listed) == ["linux/amd64", "linux/arm64"]
    jobs = center.get("/api/v1/jobs?limit=500").json()["items"]
    titles = [job["title"] for job in jobs if "multi/arch" in job["title"]]
    assert len(titles) == 3 and all(job["state"] == "done" for job in jobs)  # index + 2


def test_a_missing_image_fails_at_once_and_a_registry_that_is_down_is_retried(
    center: Server, registry: WatchedRegistry
) -> None:
    missing = center.post(f"/api/v1/registries/{registry.id}/scan", {"image": "no/such:image"})
    assert missing.status_code == 202, missing.text
    down = center.post("/api/v1/registries", {"url": f"http://127.0.0.1:{free_port()}"})
    assert down.status_code == 201, down.text
    unreachable = center.post(f"/api/v1/registries/{down.json()['id']}/scan", {"image": "app:1"})

    def settled(job_id: int, states: tuple[str, ...]) -> object:
        job = center.get(f"/api/v1/jobs/{job_id}").json()
        return job if job["state"] in states and job["attempts"] >= 1 else None

    failed = wait_for("the missing image's job", lambda: settled(missing.json()["id"], ("failed",)))
    assert isinstance(failed, dict)
    assert "no such image" in failed["error"] and failed["attempts"] == 1
    retried = wait_for("the unreachable registry's job",
                        lambda: settled(unreachable.json()["id"], ("queued",)))  # fmt: skip
    assert isinstance(retried, dict)
    assert "cannot reach registry" in retried["error"] and retried["max_attempts"] == 4
    cancelled = center.post(f"/api/v1/jobs/{retried['id']}/cancel")
    assert cancelled.json()["state"] == "cancelled"


def test_images_pushed_without_a_notification_are_found_by_listing(
    center: Server, registry_basic: Registry, testenv: SeawallTestEnv, tmp_path: Path
) -> None:
    """A registry with basic auth that notifies no one: its catalog and tags are listed with
    the stored (encrypted) credentials, and what is there gets scanned."""
    testenv.docker("load", "--quiet", "--input", str(DEMO_IMAGE))
    user, password = registry_basic.auth or ("", "")
    testenv.docker("login", "--username", user, "--password-stdin", registry_basic.host,
                   stdin=password)  # fmt: skip
    testenv.docker("tag", "seawall/demo:1.0", f"{registry_basic.host}/quiet/demo:2.0")
    testenv.docker("push", "--quiet", f"{registry_basic.host}/quiet/demo:2.0")
    added = center.post("/api/v1/registries", {"url": f"http://{registry_basic.host}",
                                               "username": user, "password": password})  # fmt: skip
    assert added.status_code == 201, added.text
    listing = center.post(f"/api/v1/registries/{added.json()['id']}/list")
    assert listing.status_code == 202, listing.text

    def scanned() -> object:
        jobs = center.get("/api/v1/jobs?limit=500").json()["items"]
        return [j for j in jobs if "quiet/demo" in j["title"] and j["state"] == "done"]

    done = wait_for("the listed image's scan", scanned)
    assert isinstance(done, list) and done[0]["requested_by"] == "seawall:catalog"
    listed = center.get(f"/api/v1/jobs/{listing.json()['id']}").json()
    assert listed["state"] == "done" and listed["result"]["queued"] >= 1  # others: other tests
    image = center.get(f"/api/v1/images/{DEMO_CONFIG}").json()
    assert any(r.startswith(f"{registry_basic.host}/quiet/demo:2.0@") for r in image["references"])


def test_an_image_deleted_from_the_registry_leaves_the_inventory(
    center: Server, registry: WatchedRegistry
) -> None:
    from tests.support.imagebuild import Image, Layer
    from tests.support.push import push_image
    from tests.support.sample import OS_RELEASE, npm_package

    files = {"etc/os-release": OS_RELEASE,
             "app/node_modules/gone/package.json": npm_package("gone", "1.0.0")}  # fmt: skip
    image = Image([Layer(files)])
    digest, _ = push_image(f"http://{registry.host}", "short/lived", image)

    def listed() -> object:
        return center.get("/api/v1/images?q=short/lived").json()["items"]

    wait_for("the pushed image", listed)
    deleted = httpx.delete(f"http://{registry.host}/v2/short/lived/manifests/{digest}")
    assert deleted.status_code == 202, deleted.text
    wait_for("the image gone from the inventory", lambda: listed() == [])


def _listing_of_a_hostile_registry(
    center: Server, answer: Callable[[str], tuple[int, bytes, dict[str, str]]]
) -> dict[str, Any]:
    """Add a registry whose every GET is answered by ``answer(path)`` (status, body,
    headers), ask the center to list it, and return the listing job once it ended."""
    import http.server
    import threading

    class Hostile(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body, headers = answer(self.path)
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        added = center.post(
            "/api/v1/registries", {"url": f"http://127.0.0.1:{server.server_address[1]}"}
        )
        assert added.status_code == 201, added.text
        listing = center.post(f"/api/v1/registries/{added.json()['id']}/list").json()

        def ended() -> object:
            job = center.get(f"/api/v1/jobs/{listing['id']}").json()
            return job if job["state"] in ("done", "failed") else None

        job = wait_for("the listing to end", ended)
        assert isinstance(job, dict)
        return job
    finally:
        server.shutdown()
        server.server_close()


def test_a_registry_answering_garbage_fails_the_listing_with_the_reason(center: Server) -> None:
    def garbage(path: str) -> tuple[int, bytes, dict[str, str]]:
        return 200, b'{"repositories": "not a list"}' if "_catalog" in path else b"{}", {}

    job = _listing_of_a_hostile_registry(center, garbage)
    assert job["state"] == "failed" and "repositories is not a list" in job["error"]
    assert job["attempts"] == 1  # garbage does not get better by asking again


def test_bad_repositories_and_tags_are_skipped_and_the_rest_listed(center: Server) -> None:
    """A tag list that is no list, a tag that is a path, a tag whose manifest is gone and a
    listing whose next page is itself: each is named in the listing's result and skipped;
    the good tag is listed, and the listing ends."""
    pages = {
        "/v2/_catalog": ({"repositories": ["good", "badtags", "loop"]}, {}),
        "/v2/good/tags/list": ({"tags": ["1.0", "../../v2/other/manifests/x", "gone"]}, {}),
        "/v2/badtags/tags/list": ({"tags": "latest"}, {}),
        "/v2/loop/tags/list": (
            {"tags": ["again"]},
            {"Link": "</v2/loop/tags/list?n=1000>; rel=next"},
        ),
    }
    asked: list[str] = []

    def hostile(path: str) -> tuple[int, bytes, dict[str, str]]:
        asked.append(path)
        if path.split("?")[0] == "/v2/good/manifests/1.0":
            return 200, b'{"schemaVersion": 2}', {}
        if path.split("?")[0] not in pages:
            return 404, b"{}", {}
        document, headers = pages[path.split("?")[0]]
        return 200, json.dumps(document).encode(), headers

    job = _listing_of_a_hostile_registry(center, hostile)
    assert job["state"] == "done", job
    result = job["result"]
    assert result["images"] == 1 and result["skipped"] == 4, result
    problems = " ".join(result["problems"])
    assert "badtags" in problems and "tags is not a list" in problems
    assert "../../v2/other" in problems and "good:gone" in problems and "loop:again" in problems
    assert not any("other/manifests" in path for path in asked)  # a tag is not a path
    assert asked.count("/v2/loop/tags/list?n=1000") == 1  # the page that links to itself
