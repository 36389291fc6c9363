"""Two ``seawall serve`` processes on one PostgreSQL (as behind a load balancer), each
running jobs on its own threads: a scan asked of both runs once, its result is stored once,
and the notification it causes is sent once, whichever process's threads get there first."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.advisorydb import DEMO_IMAGE, demo_database
from tests.support.centerproc import running_center, wait_for
from tests.support.envelopes import DEMO_CONFIG
from tests.support.smtp import running_smtp
from tests.support.testenv import Registry, SeawallTestEnv

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_centers_share_the_work_and_do_it_once(
    database_url: str, registry: Registry, testenv: SeawallTestEnv, tmp_path: Path
) -> None:
    testenv.docker("load", "--quiet", "--input", str(DEMO_IMAGE))
    testenv.docker("tag", "seawall/demo:1.0", f"{registry.host}/twice/demo:1.0")
    testenv.docker("push", "--quiet", f"{registry.host}/twice/demo:1.0")
    url = database_url.replace("postgresql+pg8000://", "postgresql://")
    db = demo_database(tmp_path / "advisories")
    env_key = {"SEAWALL_SECRET_KEY": "shared-by-both-centers"}
    with (
        running_smtp(tmp_path / "maildir") as mail,
        running_center(tmp_path / "a", db, role="owner", database=url, env=env_key) as first,
        running_center(tmp_path / "b", db, role="owner", database=url, env=env_key) as second,
    ):
        channel = first.post("/api/v1/notifications/channels", {
            "name": "team", "kind": "email", "host": "127.0.0.1", "port": mail.port,
            "security": "none", "sender": "seawall@example.org", "recipients": ["t@example.org"],
        })  # fmt: skip
        assert channel.status_code == 201, channel.text
        routing = {"name": "all", "channel_id": channel.json()["id"],
                   "kinds": ["new_unhealthy_image"]}  # fmt: skip
        rule = second.post("/api/v1/notifications/rules", routing)
        assert rule.status_code == 201, rule.text
        added = first.post("/api/v1/registries", {"url": f"http://{registry.host}"})
        assert added.status_code == 201, added.text
        registry_id = added.json()["id"]
        jobs = [c.post(f"/api/v1/registries/{registry_id}/scan", {"image": "twice/demo:1.0"})
                for c in (first, second)]  # fmt: skip
        assert {j.json()["id"] for j in jobs} == {jobs[0].json()["id"]}  # one job, asked twice

        def done() -> object:
            job = second.get(f"/api/v1/jobs/{jobs[0].json()['id']}").json()
            return job if job["state"] == "done" else None

        wait_for("the scan", done)
        scans = first.get("/api/v1/scans").json()["items"]
        assert [s["kind"] for s in scans] == ["image-scan"]
        assert second.get(f"/api/v1/images/{DEMO_CONFIG}").json()["counts"]["total"] == 4
        messages = mail.messages(expected=1, wait=30)
        assert len(messages) == 1
        assert len(mail.messages(expected=2, wait=3)) == 1  # and not a second time
