"""The rescan policy on both backends: images pushed in the last 90 days, pulled in the last
30 or running somewhere are read again when the analyzers changed; old, deleted and current
ones are not; asking twice queues nothing more."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from seawall.center.jobs import queue
from seawall.center.registries.rescan import queue_rescans
from seawall.center.store.models import Asset, ImageDigest, JobRow, RegistryImage, RegistryRow
from tests.center.conftest import Center, both_backends

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
OLD, CURRENT = "old-analyzers", "current-analyzers"


def _days(n: int) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


@both_backends
def test_the_policy_picks_recent_pulled_and_running_images(center: Center) -> None:
    images = {  # name: (pushed, pulled, deleted, scanned_with)
        "recent-push": (_days(10), None, None, OLD),
        "recent-pull": (_days(200), _days(5), None, OLD),
        "forgotten": (_days(200), _days(100), None, OLD),
        "current": (_days(1), None, None, CURRENT),
        "deleted": (_days(10), None, _days(2), OLD),
        "running": (_days(400), None, None, OLD),
    }
    with center.app.state.center.sessions() as session, session.begin():
        registry = RegistryRow(name="registry.example", url="https://registry.example",
                               secret_hash="0" * 64, created_at=NOW, last_error="")  # fmt: skip
        session.add(registry)
        session.flush()
        for number, (name, (pushed, pulled, deleted, analyzers)) in enumerate(images.items()):
            digest = f"sha256:{number:064d}"
            session.add(RegistryImage(
                registry_id=registry.id, repository=name, digest=digest, tags=["1"],
                pushed_at=pushed, pulled_at=pulled, deleted_at=deleted, scanned_at=_days(1),
                scanned_with=analyzers,
            ))  # fmt: skip
            if name == "running":
                asset = Asset(type="image", key=digest, name=name, first_seen=NOW,
                              last_seen=NOW, running=True)  # fmt: skip
                session.add(asset)
                session.flush()
                session.add(ImageDigest(digest=digest, image_id=asset.id))
    sessions = center.app.state.center.sessions
    with sessions() as session, session.begin():
        assert queue_rescans(session, NOW, CURRENT) == 3
    with sessions() as session, session.begin():
        assert queue_rescans(session, NOW, CURRENT) == 0  # already queued: joined
        jobs = list(session.scalars(select(JobRow).order_by(JobRow.id)))
    assert sorted(job.payload["repository"] for job in jobs) == [
        "recent-pull", "recent-push", "running"
    ]  # fmt: skip
    assert {job.priority for job in jobs} == {queue.SCHEDULED}
    assert {job.requested_by for job in jobs} == {"seawall:rescan-policy"}
