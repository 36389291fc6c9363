"""A local HTTP server that answers like the Kubernetes API from recorded responses
(tests/fixtures/policy/cluster/), so the cluster listing and the webhook's namespace cache
run against real HTTP with the real client.

- ``GET`` of a recorded path (discovery documents, lists) returns the recording; a
  collection the discovery documents declare but nobody recorded is an empty list.
- Namespaces are live, and so is any collection :meth:`FakeApi.push` is given: it changes one
  object and sends the event to every open watch of that collection. ``GET PATH?watch=true``
  answers as the API server does: 200, chunked, one JSON watch event a line, first the
  events after ``resourceVersion``; a resourceVersion older than the history (or after
  :meth:`FakeApi.expire`) gets an ERROR event carrying a 410 Expired Status, and the stream
  ends.
- Unrecorded paths get the API's 404 Status, a wrong token 401, ``forbidden`` paths 403.
"""

from __future__ import annotations

import copy
import json
import queue
import ssl
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.policy.support import FIXTURES

RECORDED = FIXTURES / "cluster"
TOKEN = "test-token-0123456789"
NAMESPACES = "/api/v1/namespaces"


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def _declared_collections(directory: Path) -> dict[str, tuple[str, str]]:
    """Collection path -> (list kind, apiVersion) for every listable resource that the
    recorded discovery documents (api_v1.json, apis_<group>_<version>.json) declare."""
    declared = {}
    for path in directory.glob("api*.json"):
        document = json.loads(path.read_text())
        if document.get("kind") != "APIResourceList":
            continue
        group_version = document["groupVersion"]
        prefix = f"/apis/{group_version}" if "/" in group_version else f"/api/{group_version}"
        for resource in document["resources"]:
            if "/" not in resource["name"] and "list" in resource["verbs"]:
                declared[f"{prefix}/{resource['name']}"] = (
                    f"{resource['kind']}List",
                    group_version,
                )
    return declared


class FakeApi:
    """The server's state: live collections, watch history and subscribers, requests seen."""

    def __init__(self, directory: Path, token: str, forbidden: Iterable[str]) -> None:
        self.directory = directory
        self.token = token
        self.forbidden = set(forbidden)
        self.requests: list[str] = []
        self.declared = _declared_collections(directory)
        recorded = json.loads((directory / "api_v1_namespaces.json").read_text())
        self.version = int(recorded["metadata"]["resourceVersion"])
        # collection path -> (namespace, name) -> object; more become live when pushed to
        self.live: dict[str, dict[tuple[str, str], dict[str, Any]]] = {
            NAMESPACES: {("", i["metadata"]["name"]): i for i in recorded["items"]}
        }
        self.history: list[tuple[int, str, dict[str, Any]]] = []  # (version, path, event)
        self.oldest = self.version  # watches from before this are answered 410
        self.watchers: list[tuple[str, queue.Queue[dict[str, Any] | None]]] = []
        self.lock = threading.Lock()
        self.kubeconfig = Path()
        self.port = 0

    def push(
        self,
        event_type: str,
        obj: dict[str, Any],
        path: str = NAMESPACES,
        kind: str = "Namespace",
        api_version: str = "v1",
    ) -> None:
        """Store (or delete) an object of the collection at ``path`` and send the watch
        event to every watcher of it."""
        with self.lock:
            self.version += 1
            obj = copy.deepcopy(obj)
            obj["metadata"]["resourceVersion"] = str(self.version)
            key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
            collection = self.live.setdefault(path, {})
            if event_type == "DELETED":
                collection.pop(key, None)
            else:
                collection[key] = obj
            event = {"type": event_type, "object": {"kind": kind, "apiVersion": api_version, **obj}}
            self.history.append((self.version, path, event))
            for watched, watcher in self.watchers:
                if watched == path:
                    watcher.put(event)

    def send(self, event: dict[str, Any]) -> None:
        """Send any event, however malformed, to every open watch (hostile input)."""
        with self.lock:
            for _, watcher in self.watchers:
                watcher.put(event)

    def expire(self) -> None:
        """Forget the history: open and new watches get 410 Expired (compaction)."""
        with self.lock:
            self.oldest = self.version
            self.history.clear()
            for _, watcher in self.watchers:
                watcher.put(None)

    def live_list(self, path: str) -> dict[str, Any]:
        kind, api_version = self.declared.get(path, ("NamespaceList", "v1"))
        with self.lock:
            return {
                "kind": kind,
                "apiVersion": api_version,
                "metadata": {"resourceVersion": str(self.version)},
                "items": list(self.live[path].values()),
            }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, code: int, document: dict[str, Any]) -> None:
        body = json.dumps(document).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _chunk(self, document: dict[str, Any]) -> None:
        line = json.dumps(document).encode() + b"\n"
        self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
        self.wfile.flush()

    def _watch(self, api: FakeApi, path: str, since: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        watcher: queue.Queue[dict[str, Any] | None] = queue.Queue()
        with api.lock:
            expired = since < api.oldest
            backlog = [e for version, p, e in api.history if version > since and p == path]
            api.watchers.append((path, watcher))
        try:
            if expired:
                message = f"too old resource version: {since} ({api.oldest})"
                self._chunk({"type": "ERROR", "object": _status(410, "Expired", message)})
                return
            for past in backlog:
                self._chunk(past)
            while not self.server.closing.is_set():
                try:
                    event = watcher.get(timeout=0.1)
                except queue.Empty:
                    continue
                if event is None:  # expired while watching
                    message = f"too old resource version: {since} ({api.oldest})"
                    self._chunk({"type": "ERROR", "object": _status(410, "Expired", message)})
                    return
                self._chunk(event)
        finally:
            with api.lock:
                api.watchers.remove((path, watcher))
            self.wfile.write(b"0\r\n\r\n")
            self.close_connection = True

    def do_GET(self) -> None:
        api: FakeApi = self.server.api
        api.requests.append(self.path)
        url = urlsplit(self.path)
        path, query = url.path.rstrip("/") or "/", parse_qs(url.query)
        if self.headers.get("Authorization") != f"Bearer {api.token}":
            self._send(401, _status(401, "Unauthorized", "Unauthorized"))
        elif path in api.forbidden:
            resource = path.rsplit("/", 1)[1]
            message = f'{resource} is forbidden: User "tester" cannot list resource "{resource}"'
            self._send(403, _status(403, "Forbidden", message))
        elif query.get("watch") == ["true"] and (path in api.live or path in api.declared):
            self._watch(api, path, int((query.get("resourceVersion") or ["0"])[0] or 0))
        elif path in api.live:
            self._send(200, api.live_list(path))
        elif (recorded := api.directory / (path.strip("/").replace("/", "_") + ".json")).is_file():
            self._send(200, json.loads(recorded.read_bytes()))
        elif path in api.declared:
            kind, api_version = api.declared[path]
            metadata = {"resourceVersion": str(api.version)}
            empty = {"kind": kind, "apiVersion": api_version, "metadata": metadata, "items": []}
            self._send(200, empty)
        else:
            message = "the server could not find the requested resource"
            self._send(404, _status(404, "NotFound", message))


@contextmanager
def api_server(
    directory: Path,
    token: str = TOKEN,
    forbidden: Iterable[str] = (),
    tls: ssl.SSLContext | None = None,
) -> Iterator[FakeApi]:
    """Serve the recordings (over HTTPS with ``tls``); the FakeApi's ``kubeconfig`` (in
    ``directory``) points at it, and ``port`` is where it listens."""
    api = FakeApi(RECORDED, TOKEN, forbidden)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    api.port = server.server_port
    scheme = "https" if tls else "http"
    server.daemon_threads = True
    server.api = api  # type: ignore[attr-defined]
    server.closing = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.kubeconfig = directory / "kubeconfig"
    api.kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters: [{{name: rec, cluster: {{server: '{scheme}://127.0.0.1:{server.server_port}'}}}}]\n"
        f"users: [{{name: tester, user: {{token: {token}}}}}]\n"
        "contexts: [{name: recorded, context: {cluster: rec, user: tester}}]\n"
        "current-context: recorded\n"
    )
    try:
        yield api
    finally:
        server.closing.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()


@contextmanager
def recorded_api(directory: Path, token: str = TOKEN) -> Iterator[tuple[Path, list[str]]]:
    """Serve the recordings; yield a kubeconfig for them and the list of requested paths."""
    with api_server(directory, token) as api:
        yield api.kubeconfig, api.requests
