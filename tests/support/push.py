"""Push images written by ``imagebuild`` to a registry over the distribution API (monolithic
blob uploads, manifests, an index), for tests that need what ``docker push`` cannot make
from this Docker Engine, such as a multi-platform index."""

from __future__ import annotations

import json

import httpx

from tests.support.imagebuild import Image, sha256

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _put_blob(client: httpx.Client, data: bytes) -> None:
    digest = sha256(data)
    if client.head(f"/blobs/{digest}").status_code == 200:
        return
    started = client.post("/blobs/uploads/")
    started.raise_for_status()
    # The upload URL carries the registry's own state in its query: add the digest to it.
    location = httpx.URL(started.headers["Location"]).copy_merge_params({"digest": digest})
    done = client.put(location, content=data, headers={"Content-Type": "application/octet-stream"})
    done.raise_for_status()


def push_image(base_url: str, repository: str, image: Image) -> tuple[str, int]:
    """Push ``image``'s blobs and manifest (by digest); return its digest and size."""
    manifest, blobs = image.manifest()
    with httpx.Client(base_url=f"{base_url}/v2/{repository}", timeout=60) as client:
        for data in blobs.values():
            _put_blob(client, data)
        response = client.put(
            f"/manifests/{sha256(manifest)}", content=manifest, headers={"Content-Type": MANIFEST}
        )
        response.raise_for_status()
    return sha256(manifest), len(manifest)


def push_index(base_url: str, repository: str, tag: str, images: dict[str, Image]) -> str:
    """Push one image per ``os/arch`` platform and an index naming them under ``tag``."""
    entries = []
    for platform, image in images.items():
        digest, size = push_image(base_url, repository, image)
        os_name, arch = platform.split("/")
        entries.append(
            {
                "mediaType": MANIFEST,
                "digest": digest,
                "size": size,
                "platform": {"os": os_name, "architecture": arch},
            }
        )
    index = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": entries}).encode()
    with httpx.Client(base_url=f"{base_url}/v2/{repository}", timeout=60) as client:
        client.put(
            f"/manifests/{tag}", content=index, headers={"Content-Type": INDEX}
        ).raise_for_status()
    return sha256(index)
