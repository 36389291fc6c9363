"""A plain-JSON client for the Kubernetes API: GET (with paging) and watch streams, on the
connection lightkube configures from a kubeconfig or the in-cluster service account.

Discovery, listing resources of any kind (CRDs included) and watching Namespaces need none
of lightkube's typed models: objects are read as the JSON policies evaluate. Failures are
two exceptions: :class:`ApiFailure` (the server answered with an error Status) and
:class:`ApiUnreachable` (no usable answer at all).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx2

from seawall.errors import InputError
from seawall.safety.files import read_regular
from seawall.safety.jsondoc import JsonError, parse_json
from seawall.safety.limits import max_bytes
from seawall.safety.yaml import read_yaml

if TYPE_CHECKING:
    from lightkube import KubeConfig

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
PAGE_SIZE = 500


class ApiFailure(Exception):
    """The API server answered with an error (its Status code, reason and message)."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(f"{code} {reason}: {message}" if message else f"{code} {reason}")
        self.code = code
        self.reason = reason


class ApiUnreachable(Exception):
    """The API server could not be reached, or its answer could not be read."""


def _failure(code: int, body: bytes) -> ApiFailure:
    try:
        status = parse_json(body)
    except JsonError:
        status = None
    if not isinstance(status, dict):
        return ApiFailure(code, "Error", body[:200].decode("utf-8", "replace"))
    return ApiFailure(
        int(status.get("code") or code),
        str(status.get("reason") or "Error"),
        str(status.get("message") or ""),
    )


def _document(response: httpx2.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise _failure(response.status_code, response.content)
    try:
        document = parse_json(response.content)
    except JsonError as exc:
        raise ApiUnreachable(f"{response.url.path}: the answer is not usable: {exc}") from None
    if not isinstance(document, dict):
        raise ApiUnreachable(f"{response.url.path}: the answer is not a JSON object")
    return document


class KubeApi:
    """GET and watch on one API server with the credentials of one kubeconfig context."""

    def __init__(self, http: httpx2.Client) -> None:
        self._http = http

    def get(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The JSON object at ``path``; ApiFailure or ApiUnreachable when there is none."""
        try:
            response = self._http.get(path, params=dict(params or {}))
        except httpx2.HTTPError as exc:
            raise ApiUnreachable(str(exc) or type(exc).__name__) from None
        return _document(response)

    def pages(self, path: str, limit: int = PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """Every page of the list at ``path``, following ``metadata.continue``."""
        params = {"limit": str(limit)}
        while True:
            page = self.get(path, params)
            yield page
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return
            params["continue"] = str(token)

    def watch(
        self, path: str, resource_version: str, timeout_seconds: int = 300
    ) -> Iterator[dict[str, Any]]:
        """The watch events on ``path`` after ``resource_version`` (one JSON object a line),
        until the server ends the stream (after about ``timeout_seconds``)."""
        params = {
            "watch": "true",
            "resourceVersion": resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(timeout_seconds),
        }
        timeout = httpx2.Timeout(10.0, read=timeout_seconds + 30.0)
        try:
            with self._http.stream("GET", path, params=params, timeout=timeout) as response:
                if response.status_code >= 400:
                    raise _failure(response.status_code, response.read())
                for line in response.iter_lines():
                    if not line.strip():
                        continue
                    try:
                        event = parse_json(line.encode("utf-8", "surrogatepass"))
                    except JsonError as exc:
                        raise ApiUnreachable(
                            f"{path}: a watch event is not usable: {exc}"
                        ) from None
                    if isinstance(event, dict):
                        yield event
        except httpx2.HTTPError as exc:
            raise ApiUnreachable(str(exc) or type(exc).__name__) from None

    def close(self) -> None:
        self._http.close()


def _default_kubeconfig() -> Path:
    """``$KUBECONFIG`` (its first file, as kubectl merges them), else ``~/.kube/config``."""
    paths = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return Path(paths[0] if paths else "~/.kube/config").expanduser()


def _read_kubeconfig(path: Path) -> KubeConfig:
    """The kubeconfig at ``path``, read as any untrusted YAML (a regular file within the
    settings cap, aliases within the budget) before lightkube interprets it."""
    from lightkube import KubeConfig

    name = f"kubeconfig {path}"
    documents = read_yaml(read_regular(path.expanduser(), max_bytes("SETTINGS"), name), name)
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise InputError(f"{name}: not a kubeconfig (one YAML mapping)")
    return KubeConfig.from_dict(documents[0], fname=path)


def connect(
    kubeconfig: Path | None = None,
    context: str | None = None,
    *,
    in_cluster: bool = False,
    service_account: Path = SERVICE_ACCOUNT,
) -> KubeApi:
    """A client for the kubeconfig's context (default: $KUBECONFIG or ~/.kube/config), or,
    with ``in_cluster``, for the pod's service account (token and CA at their standard
    paths, the server from KUBERNETES_SERVICE_HOST and _PORT)."""
    from lightkube import ConfigError, KubeConfig
    from lightkube.config.client_adapter import Client, ConnectionParams

    try:
        if in_cluster:
            config = KubeConfig.from_service_account(service_account)
        else:
            config = _read_kubeconfig(kubeconfig or _default_kubeconfig())
        single = config.get(context_name=context)
        if single is None:
            raise ConfigError("no current context")
        return KubeApi(Client(single, ConnectionParams(trust_env=False)))
    except ConfigError as exc:
        where = "in-cluster configuration" if in_cluster else "kubeconfig"
        raise InputError(f"{where}: {exc}", hint="check --kubeconfig and --context") from None
    except KeyError as exc:  # KUBERNETES_SERVICE_HOST or _PORT unset: not in a pod
        raise InputError(
            f"in-cluster configuration: {exc.args[0]} is not set",
            hint="--in-cluster works in a pod; elsewhere give --kubeconfig",
        ) from None
    except OSError as exc:
        raise InputError(f"cannot read the Kubernetes configuration: {exc}") from None
