"""The rescan policy: which images of watched registries are read again, and when.

An image is kept fresh while it matters: pushed in the last ``rescan_pushed_days`` (90),
pulled in the last ``rescan_pulled_days`` (30), or running on a known host or cluster
(``rescan_running``), per registry. It is read again only when the analyzers changed (its
``scanned_with`` is not the layer cache's code fingerprint); a new advisory database needs
no registry at all (the center re-matches stored inventories). Rescans are scheduled jobs:
they wait behind pushes and manual scans and run under the scheduled cap.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from seawall.center.jobs import queue
from seawall.center.registries.connector import is_live, queue_scan
from seawall.center.store.models import Asset, ImageDigest, RegistryImage, RegistryRow

BATCH = 1000  # images queued per round at most: the rest wait for the next one


def queue_rescans(session: Session, now: dt.datetime, fingerprint: str) -> int:
    """Queue a scheduled scan of every image the policy keeps fresh whose scan is older
    than the analyzers; how many jobs were created."""
    queued = 0
    for registry in session.scalars(select(RegistryRow)):
        running = (
            select(ImageDigest.digest)
            .join(Asset, Asset.id == ImageDigest.image_id)
            .where(Asset.running.is_(True))
        )
        wanted = [
            RegistryImage.pushed_at >= now - dt.timedelta(days=registry.rescan_pushed_days),
            RegistryImage.pulled_at >= now - dt.timedelta(days=registry.rescan_pulled_days),
        ]
        if registry.rescan_running:
            wanted.append(RegistryImage.digest.in_(running))
        stale = session.scalars(
            select(RegistryImage)
            .where(RegistryImage.registry_id == registry.id)
            .where(RegistryImage.scanned_at.is_not(None))
            .where(RegistryImage.scanned_with != fingerprint)
            .where(or_(*wanted))
            .limit(BATCH)
        )
        for image in stale:
            if is_live(image):
                queued += queue_scan(
                    session, registry, image, queue.SCHEDULED, now, "seawall:rescan-policy"
                )
    return queued
