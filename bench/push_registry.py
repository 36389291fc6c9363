#!/usr/bin/env python3
"""Push the benchmark images (OCI layout directories) to a registry, for the registry rows.

Why: ``seawall sbom 127.0.0.1:5000/seawall-bench/debian12:latest --insecure`` and Trivy's
``--image-src remote`` read images over the Distribution API; this puts the images
``bench/make_images.py`` built there without Docker, skopeo or crane. It speaks the plain
registry API (monolithic blob upload, then the manifest), streams blobs from disk and skips
blobs the registry already has. Plain HTTP only with ``--insecure`` (a local test registry),
no authentication.

    python3 bench/push_registry.py 127.0.0.1:5000 --insecure
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import urllib.parse
from pathlib import Path

DEFAULT_WORK = Path(__file__).resolve().parent / ".work"


class Registry:
    """A minimal client for one registry host (HEAD/POST/PUT of blobs and manifests)."""

    def __init__(self, host: str, insecure: bool) -> None:
        self.host = host
        self.insecure = insecure

    def _conn(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPConnection if self.insecure else http.client.HTTPSConnection
        return cls(self.host, timeout=300)

    def request(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One request on a fresh connection; return status, headers and body."""
        conn = self._conn()
        try:
            conn.request(method, path, body=body, headers=headers or {})  # type: ignore[arg-type]
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def push_blob(self, repo: str, digest: str, path: Path) -> bool:
        """Upload one blob unless the registry has it; return True if it was uploaded."""
        status, _, _ = self.request("HEAD", f"/v2/{repo}/blobs/{digest}")
        if status == 200:
            return False
        status, headers, body = self.request(
            "POST", f"/v2/{repo}/blobs/uploads/", headers={"Content-Length": "0"}
        )
        if status != 202 or "location" not in headers:
            raise RuntimeError(f"start upload: HTTP {status} {body[:200]!r}")
        location = urllib.parse.urlsplit(headers["location"])
        query = (location.query + "&" if location.query else "") + urllib.parse.urlencode(
            {"digest": digest}
        )
        size = path.stat().st_size
        with open(path, "rb") as f:
            status, _, body = self.request(
                "PUT",
                f"{location.path}?{query}",
                body=f,
                headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
            )
        if status != 201:
            raise RuntimeError(f"upload {digest}: HTTP {status} {body[:200]!r}")
        return True

    def push_manifest(self, repo: str, tag: str, media_type: str, data: bytes) -> None:
        """Put a manifest under a tag."""
        status, _, body = self.request(
            "PUT",
            f"/v2/{repo}/manifests/{tag}",
            body=data,
            headers={"Content-Type": media_type, "Content-Length": str(len(data))},
        )
        if status != 201:
            raise RuntimeError(f"manifest {repo}:{tag}: HTTP {status} {body[:200]!r}")


def push_layout(registry: Registry, layout: Path, repo: str, tag: str) -> None:
    """Push the single image of an OCI layout directory as ``repo:tag``."""
    blobs = layout / "blobs" / "sha256"
    index = json.loads((layout / "index.json").read_text())
    desc = index["manifests"][0]
    manifest_bytes = (blobs / desc["digest"].removeprefix("sha256:")).read_bytes()
    manifest = json.loads(manifest_bytes)
    for blob in [manifest["config"], *manifest["layers"]]:
        uploaded = registry.push_blob(
            repo, blob["digest"], blobs / blob["digest"].removeprefix("sha256:")
        )
        print(
            f"  {blob['digest'][:19]} {blob['size'] / 1e6:8.1f} MB "
            f"{'uploaded' if uploaded else 'already there'}"
        )
    registry.push_manifest(repo, tag, desc["mediaType"], manifest_bytes)
    print(f"pushed {registry.host}/{repo}:{tag}")


def main() -> int:
    """Push every image listed in images.json (or those named) to the registry."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("registry", help="HOST:PORT, e.g. 127.0.0.1:5000")
    ap.add_argument("--insecure", action="store_true", help="plain HTTP")
    ap.add_argument("--images", default="", help="comma-separated names (default: all)")
    ap.add_argument("--work-dir", type=Path, default=DEFAULT_WORK)
    args = ap.parse_args()
    images = json.loads((args.work_dir / "images.json").read_text())
    wanted = [n for n in args.images.split(",") if n]
    registry = Registry(args.registry, args.insecure)
    for image in images:
        if not wanted or image["name"] in wanted:
            push_layout(registry, Path(image["oci_layout"]), image["registry_repo"], "latest")
    return 0


if __name__ == "__main__":
    sys.exit(main())
