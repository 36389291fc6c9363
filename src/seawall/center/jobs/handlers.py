"""Every kind of job, by name: what ``execute`` runs for a job row's ``kind``."""

from __future__ import annotations

from collections.abc import Mapping

from seawall.center.jobs.execution import Handler
from seawall.center.jobs.matching import MATCH_JOB, match_images
from seawall.center.registries.catalog import CATALOG_JOB, list_catalog
from seawall.center.registries.connector import SCAN_JOB
from seawall.center.registries.scanning import scan_image

HANDLERS: Mapping[str, Handler] = {
    SCAN_JOB: scan_image,
    MATCH_JOB: match_images,
    CATALOG_JOB: list_catalog,
}
