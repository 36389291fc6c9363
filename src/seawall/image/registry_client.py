"""A small client for the OCI distribution API: manifests, configs and blob locations.

Authentication follows the registry's challenge: anonymous first, then HTTP basic or a bearer
token from the realm the ``WWW-Authenticate`` header names (with the user's credentials when
there are any). Credentials come from ``--username``/``--password`` or ``config.json`` in
``$DOCKER_CONFIG`` or ``~/.docker``; credential helpers are programs and are never run.
Plain HTTP is used only for loopback registries or with ``--insecure``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import ipaddress
import json
import os
import re
from pathlib import Path

import httpx

from seawall.errors import AuthenticationError, ImageFormatError, InputError, RegistryError
from seawall.image.blob import HttpBlob, check_digest
from seawall.image.httpbody import ACCEPT_ENCODING, read_capped
from seawall.image.manifest import ACCEPT, MAX_JSON, load_json
from seawall.image.reference import DOCKER_HUB, Reference
from seawall.image.source import SourceOptions

_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (with or without a port)."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def docker_config_credentials(registry: str, config_dir: str = "") -> tuple[str, str]:
    """(username, password) for ``registry`` from Docker's ``config.json``, or empty strings."""
    directory = Path(config_dir or os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
    try:
        config = json.loads((directory / "config.json").read_text())
    except (OSError, ValueError):
        return "", ""
    auths = config.get("auths") if isinstance(config, dict) else None
    if not isinstance(auths, dict):
        return "", ""
    keys = [registry, f"https://{registry}", f"http://{registry}", f"https://{registry}/v1/"]
    if registry == DOCKER_HUB:
        keys.insert(0, "https://index.docker.io/v1/")
    for key in keys:
        entry = auths.get(key)
        if not isinstance(entry, dict):
            continue
        if entry.get("username") and entry.get("password"):
            return str(entry["username"]), str(entry["password"])
        if entry.get("auth"):
            try:
                user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                continue
            return user, password
    return "", ""


class RegistryClient:
    """A small client for one repository of one registry."""

    def __init__(self, ref: Reference, options: SourceOptions) -> None:
        self.ref = ref
        plain = options.insecure or is_loopback(ref.api_host)
        self.root = f"{'http' if plain else 'https'}://{ref.api_host}/v2"
        self.base = f"{self.root}/{ref.repository}"
        self.verify_tls = not options.insecure
        self.username, self.password = options.username, options.password
        if not self.username:
            self.username, self.password = docker_config_credentials(
                ref.registry, options.docker_config
            )
        self.auth_header = ""
        self.last_link = ""  # the Link header of the last answer (listings are paginated)
        self.client = httpx.Client(
            verify=self.verify_tls,
            timeout=TIMEOUT,
            follow_redirects=True,
            headers={"Accept-Encoding": ACCEPT_ENCODING},
        )

    def close(self) -> None:
        self.client.close()

    def _send(self, path: str, accept: str = "") -> httpx.Response:
        """Start a GET of ``path`` under the repository (or, starting with ``/``, under
        ``/v2``); the body is left unread (the caller closes it)."""
        headers = {"Accept": accept} if accept else {}
        if self.auth_header:
            headers["Authorization"] = self.auth_header
        url = f"{self.root}{path}" if path.startswith("/") else f"{self.base}/{path}"
        request = self.client.build_request("GET", url, headers=headers)
        try:
            return self.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise RegistryError(
                f"cannot reach registry {self.ref.registry}: {exc}",
                hint="check the address, or use --insecure for a plain-HTTP registry",
            ) from None

    def fetch(self, path: str, what: str, accept: str = "") -> tuple[int, bytes]:
        """GET ``path`` under the repository, answering an auth challenge once: the status
        and, for 200, the body (at most :data:`MAX_JSON` bytes, read as it arrives)."""
        response = self._send(path, accept)
        if response.status_code == 401 and not self.auth_header:
            response.close()
            self._authenticate(response.headers.get("WWW-Authenticate", ""))
            response = self._send(path, accept)
        self.last_link = response.headers.get("Link", "")
        try:
            if response.status_code in (401, 403):
                who = f"as {self.username!r}" if self.username else "anonymously"
                raise AuthenticationError(
                    f"registry {self.ref.registry} refused access to {self.ref.repository} {who}",
                    hint="check --username/--password or `docker login`",
                )
            if response.status_code != 200:
                return response.status_code, b""
            return 200, read_capped(response, MAX_JSON, what)
        finally:
            response.close()

    def _authenticate(self, challenge: str) -> None:
        scheme, _, params_text = challenge.partition(" ")
        params = dict(_CHALLENGE_PARAM.findall(params_text))
        basic = httpx.BasicAuth(self.username, self.password) if self.username else None
        if scheme.lower() == "basic":
            if not basic:
                raise AuthenticationError(
                    f"registry {self.ref.registry} needs credentials",
                    hint="pass --username and --password",
                )
            encoded = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            self.auth_header = f"Basic {encoded}"
            return
        if scheme.lower() != "bearer" or "realm" not in params:
            raise RegistryError(
                f"registry {self.ref.registry}: unsupported challenge {challenge[:100]!r}"
            )
        query = {
            "service": params.get("service", ""),
            "scope": params.get("scope", f"repository:{self.ref.repository}:pull"),
        }
        realm = params["realm"]
        try:
            with self.client.stream(
                "GET", realm, params=query, auth=basic or httpx.USE_CLIENT_DEFAULT
            ) as response:
                if response.status_code in (401, 403):
                    raise AuthenticationError(
                        f"token service of {self.ref.registry} rejected the credentials",
                        hint="check --username/--password or `docker login`",
                    )
                if response.status_code != 200:
                    raise RegistryError(f"token service answered HTTP {response.status_code}")
                body = read_capped(response, MAX_JSON, "token service")
        except httpx.HTTPError as exc:
            raise RegistryError(f"cannot reach the token service {realm}: {exc}") from None
        token: object = None
        with contextlib.suppress(ImageFormatError):
            answer = load_json(body, "token service answer")
            token = answer.get("token") or answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise RegistryError("token service gave no token")
        self.auth_header = f"Bearer {token}"

    def manifest(self, selector: str) -> tuple[bytes, str]:
        """The manifest (or index) named by a tag or digest, verified, and its digest."""
        status, body = self.fetch(f"manifests/{selector}", f"{self.ref}: manifest", ACCEPT)
        if status == 404:
            raise InputError(f"{self.ref}: no such image in the registry")
        if status != 200:
            raise RegistryError(f"{self.ref}: registry answered HTTP {status}")
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if selector.startswith("sha256:"):
            check_digest(f"{self.ref}: manifest", selector, digest[7:])
        return body, digest

    def listing(self, path: str, key: str, what: str, limit: int) -> list[str]:
        """The strings under ``key`` of a paginated listing (``/_catalog``: repositories;
        ``tags/list``: tags), following ``Link`` pages, at most ``limit`` of them."""
        found: list[str] = []
        page = f"{path}?n={min(limit, 1000)}"
        seen: set[str] = set()
        while page and page not in seen and len(found) < limit:
            seen.add(page)
            status, body = self.fetch(page, what)
            if status != 200:
                raise RegistryError(f"registry {self.ref.registry}: {what}: HTTP {status}")
            values = load_json(body, what).get(key) or []
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ImageFormatError(f"registry {self.ref.registry}: {what}: {key} is not a list")
            found += values
            # an empty page ends the listing, and a page links to no page read before: a
            # registry cannot keep the listing going forever
            page = self._next_page(page) if values else ""
        return found[:limit]

    def _next_page(self, page: str) -> str:
        """The next page of the last listing, from its ``Link`` header (kept by :meth:`fetch`)."""
        link = self.last_link
        if not link.startswith("<") or ">" not in link:
            return ""
        target = link[1 : link.index(">")]
        if not target.startswith("/v2/"):
            return ""  # another host, or nonsense: a listing is not followed off the registry
        rest = target[len("/v2") :]
        prefix = "/" + self.ref.repository + "/"
        return rest[len(prefix) :] if rest.startswith(prefix) else rest

    def small_blob(self, digest: str, what: str) -> bytes:
        """A config blob, verified against its digest."""
        status, body = self.fetch(f"blobs/{digest}", f"{self.ref}: {what}")
        if status != 200:
            raise RegistryError(f"{self.ref}: {what} {digest}: HTTP {status}")
        check_digest(f"{self.ref}: {what}", digest, hashlib.sha256(body).hexdigest())
        return body

    def blob_ref(self, digest: str, size: int) -> HttpBlob:
        """Where a worker can download a layer blob (with the current credentials)."""
        headers = {"Authorization": self.auth_header} if self.auth_header else {}
        return HttpBlob(f"{self.base}/blobs/{digest}", headers, self.verify_tls, size)
