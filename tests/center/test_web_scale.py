"""Every page answers over a store with many rows (bulk-inserted as ingest leaves them:
assets with their counters and health, rules, findings, recommendation states, alerts),
second pages included, and prints each page's median time from request to the last byte.

The suite runs a fiftieth of the issue's scale (200 images, 20,000 findings, 2,000 alerts);
``SEAWALL_SCALE=1`` is the full 10,000 images, 1,000,000 findings and 100,000 alerts. Times
are printed, never asserted: bench/center_speed.py is where they are measured and compared
with the targets.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import time

import pytest
from sqlalchemy import insert

from seawall.center.store.models import (
    AlertRow,
    Asset,
    AssetTag,
    FindingRow,
    ImageReference,
    RecommendationState,
    RuleRow,
)
from tests.center.conftest import Center
from tests.center.test_web import SignedIn, signed_in

pytestmark = pytest.mark.slow
SCALE = float(os.environ.get("SEAWALL_SCALE", "0.02"))
IMAGES = int(10_000 * SCALE)
FINDINGS_PER_IMAGE = 100
ALERTS = int(100_000 * SCALE)


def _fill(center: Center) -> dict[str, int]:
    now = dt.datetime.now(dt.UTC)
    rng = random.Random(7)
    engine = center.app.state.center.engine
    rules = [
        {"id": f"osv/CVE-2025-{n:05d}", "title": f"package-{n % 300}: flaw {n}",
         "severity": n % 5, "data": {"aliases": [f"GHSA-{n:04d}"]}}
        for n in range(2000)
    ]  # fmt: skip
    with engine.begin() as db:
        db.execute(insert(RuleRow), rules)
        db.execute(insert(Asset), [{"id": 1, "type": "cluster", "key": "c1", "name": "prod",
                   "first_seen": now, "last_seen": now, "last_scanned": now, "gone": False,
                   "attributes": {}, "healthy": False, "running": False}])  # fmt: skip
        images = []
        for i in range(IMAGES):
            counts = [rng.randint(0, 3) for _ in range(5)]
            images.append(
                {"id": 10 + i, "type": "image", "key": f"sha256:{i:064x}",
                 "name": f"registry.example/team-{i % 50}/app-{i}:1.{i % 9}",
                 "first_seen": now, "last_seen": now, "last_scanned": now, "gone": False,
                 "attributes": {"distro": "debian 12", "packages": 300},
                 "critical": counts[0], "high": counts[1], "medium": counts[2],
                 "low": counts[3], "unknown": counts[4], "healthy": counts[0] + counts[1] == 0,
                 "running": i % 3 == 0}
            )  # fmt: skip
        db.execute(insert(Asset), images)
        db.execute(insert(ImageReference), [
            {"image_id": img["id"], "reference": img["name"], "registry_host": "registry.example",
             "repository": img["name"].split("/", 1)[1].split(":")[0], "tag": "1",
             "last_seen": now} for img in images])  # fmt: skip
        db.execute(insert(AssetTag), [{"asset_id": img["id"], "tag": "registry:registry.example"}
                                      for img in images])  # fmt: skip
        db.execute(insert(RecommendationState), [
            {"recommendation": "image-vulnerabilities", "asset_id": img["id"],
             "control": "remediate-vulnerabilities",
             "state": "healthy" if img["healthy"] else "unhealthy", "detail": "",
             "updated_at": now} for img in images])  # fmt: skip
        batch: list[dict[str, object]] = []
        number = 0
        for img in images:
            for k in range(FINDINGS_PER_IMAGE):
                number += 1
                failing = k % 4 != 0
                rule = rules[(img["id"] * 7 + k) % len(rules)]
                batch.append(
                    {"id": number, "fingerprint": f"{number:032x}", "source_id": img["id"],
                     "asset_id": img["id"], "kind": "vulnerability", "rule_id": rule["id"],
                     "severity": rule["severity"], "status": "fail" if failing else "pass",
                     "is_open": failing, "failing": failing, "first_seen": now,
                     "last_seen": now, "times_reopened": 0, "resource_kind": "package",
                     "resource_name": f"package-{k}", "package": f"package-{k}",
                     "version": "1.0", "fixed_version": "1.1", "evidence": "", "message": "",
                     "remediation": "", "details": {"layer_digest": "", "ecosystem": "deb"}}
                )  # fmt: skip
                if len(batch) == 20_000:
                    db.execute(insert(FindingRow), batch)
                    batch = []
        if batch:
            db.execute(insert(FindingRow), batch)
        alerts = []
        for n in range(ALERTS):
            when = now - dt.timedelta(minutes=n * 43200 / max(1, ALERTS) * 30 / 30)
            alerts.append(
                {"id": n + 1, "alert_id": f"a{n}", "source_id": 1, "asset_id": 1,
                 "rule_id": f"runtime/rule-{n % 40}", "title": f"Alert {n % 40}",
                 "severity": n % 5, "time": when, "last_time": when, "count": 1,
                 "source": "k8s_audit", "tactic": "Execution", "technique": "T1609",
                 "status": ("new", "acknowledged", "dismissed")[n % 3], "status_reason": "",
                 "status_by": "", "resource": {"kind": "Pod", "name": f"pod-{n}"},
                 "evidence": {"message": "exec"}, "remediation": ""}
            )  # fmt: skip
            if len(alerts) == 20_000:
                db.execute(insert(AlertRow), alerts)
                alerts = []
        if alerts:
            db.execute(insert(AlertRow), alerts)
    if engine.dialect.name == "sqlite":
        with engine.begin() as db:
            db.exec_driver_sql("ANALYZE")
    return {"image": 10, "alert": 1}


def _time(client: SignedIn, path: str, runs: int = 5) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        answer = client.get(path)
        samples.append(time.perf_counter() - start)
        assert answer.status_code == 200, (path, answer.text[:300])
    return statistics.median(samples)


def test_pages_answer_over_many_rows(center: Center, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    known = _fill(center)
    filled = time.perf_counter() - started
    owner = signed_in(center, "olivia", "owner")
    second = owner.get("/inventory/images").text
    cursor = second.split("cursor=", 1)[1].split('"', 1)[0].replace("&amp;", "&")
    pages = [
        "/overview",
        "/inventory/images",
        f"/inventory/images?cursor={cursor}",
        "/inventory/images?q=app-99&healthy=no",
        "/inventory/registries",
        f"/images/sha256:{0:064x}",
        "/recommendations",
        "/recommendations/image-vulnerabilities",
        "/findings",
        "/findings?severity=critical",
        "/findings?q=package-7",
        "/alerts",
        "/alerts?status=new&severity=high,critical",
        f"/alerts/{known['alert']}",
        "/settings",
    ]
    timings = {path: _time(owner, path) for path in pages}
    unindexed = {p: _time(owner, p) for p in ("/findings?state=all&sort=last_seen",)}
    with capsys.disabled():
        print(f"\nfilled {IMAGES} images, {IMAGES * FINDINGS_PER_IMAGE} findings, "
              f"{ALERTS} alerts in {filled:.0f} s; median page times:")  # fmt: skip
        for path, seconds in {**timings, **unindexed}.items():
            print(f"  {seconds * 1000:7.1f} ms  {path}")
