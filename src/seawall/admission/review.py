"""AdmissionReview v1 and v1beta1: read a request (strictly, as untrusted input) and write
the response the API server expects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

API_VERSIONS = ("admission.k8s.io/v1", "admission.k8s.io/v1beta1")
MAX_WARNINGS = 20
MAX_WARNING_LENGTH = 256


class ReviewError(ValueError):
    """The body is not a usable AdmissionReview; the message goes back with a 400."""


@dataclass(frozen=True, slots=True)
class AdmissionRequest:
    api_version: str
    uid: str
    operation: str
    kind: str
    namespace: str
    name: str
    object: Mapping[str, Any] | None
    old_object: Mapping[str, Any] | None
    user_info: Mapping[str, Any]
    dry_run: bool


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def parse_review(body: bytes) -> AdmissionRequest:
    """The request inside an AdmissionReview body; ReviewError says what is wrong."""
    try:
        document = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise ReviewError(f"body is not JSON: {exc}") from None
    except RecursionError:
        raise ReviewError("body nests too deeply") from None
    if not isinstance(document, dict):
        raise ReviewError("body is not a JSON object")
    if document.get("kind") != "AdmissionReview":
        raise ReviewError("kind must be AdmissionReview")
    api_version = document.get("apiVersion")
    if api_version not in API_VERSIONS:
        raise ReviewError(f"apiVersion must be one of {', '.join(API_VERSIONS)}")
    request = document.get("request")
    if not isinstance(request, dict):
        raise ReviewError("request is missing")
    uid = request.get("uid")
    if not isinstance(uid, str) or not uid:
        raise ReviewError("request.uid is missing")
    obj, old = request.get("object"), request.get("oldObject")
    if obj is not None and not isinstance(obj, dict):
        raise ReviewError("request.object is not an object")
    if old is not None and not isinstance(old, dict):
        raise ReviewError("request.oldObject is not an object")
    operation = request.get("operation") or "CREATE"
    if operation not in ("CREATE", "UPDATE", "DELETE", "CONNECT"):
        raise ReviewError(f"request.operation {str(operation)[:40]!r} is unknown")
    kind = _map(request.get("kind")).get("kind") or _map(obj).get("kind") or ""
    return AdmissionRequest(
        api_version=str(api_version),
        uid=uid,
        operation=str(operation),
        kind=str(kind),
        namespace=str(request.get("namespace") or ""),
        name=str(request.get("name") or _map(_map(obj).get("metadata")).get("name") or ""),
        object=obj,
        old_object=old,
        user_info=_map(request.get("userInfo")),
        dry_run=request.get("dryRun") is True,
    )


def response_body(
    request: AdmissionRequest,
    allowed: bool,
    message: str = "",
    warnings: Sequence[str] = (),
    code: int = 403,
) -> bytes:
    """The AdmissionReview response, in the request's apiVersion."""
    response: dict[str, Any] = {"uid": request.uid, "allowed": allowed}
    if not allowed:
        response["status"] = {"code": code, "message": message, "reason": "Forbidden"}
    if warnings:
        response["warnings"] = [w[:MAX_WARNING_LENGTH] for w in warnings[:MAX_WARNINGS]]
    return msgspec.json.encode(
        {"apiVersion": request.api_version, "kind": "AdmissionReview", "response": response}
    )
