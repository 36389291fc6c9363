"""Copy an image from a registry into an OCI layout, over the distribution API (like skopeo).

The integration tests use it to get OCI layouts and OCI archives of the very image that
Docker built and pushed, so every source can be compared on the same content.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx

ACCEPT = (
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.oci.image.manifest.v1+json"
)


def pull_to_oci_layout(
    base_url: str, repository: str, tag: str, target: Path, auth: tuple[str, str] | None = None
) -> Path:
    """Write ``repository:tag`` from the open registry at ``base_url`` as an OCI layout."""
    blobs = target / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    with httpx.Client(base_url=f"{base_url}/v2/{repository}", auth=auth, timeout=60) as client:
        response = client.get(f"/manifests/{tag}", headers={"Accept": ACCEPT})
        response.raise_for_status()
        manifest = response.content
        media_type = response.headers["content-type"]
        digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
        (blobs / digest[7:]).write_bytes(manifest)
        document = json.loads(manifest)
        for descriptor in [document["config"], *document["layers"]]:
            blob = client.get(f"/blobs/{descriptor['digest']}")
            blob.raise_for_status()
            (blobs / descriptor["digest"][7:]).write_bytes(blob.content)
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": media_type,
                "digest": digest,
                "size": len(manifest),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (target / "index.json").write_text(json.dumps(index))
    (target / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return target
