"""Kubernetes audit events (``audit.k8s.io`` v1 and v1beta1) as runtime events.

Input is one ``Event`` or ``EventList`` JSON document (a log line, or a webhook batch).
Decoding goes through typed msgspec structs that keep ``requestObject``/``responseObject``
as raw bytes: most events never need their bodies, so bodies are parsed only when a rule
asks for a field inside them. What real logs contain is tolerated: no ``apiVersion``,
``ResponseStarted`` stages (used for exec, attach and port-forward, which only complete when
the session ends), Metadata-level events without bodies, and patches (the response object,
the object after the patch, is preferred when logged).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec

from seawall.model import Resource
from seawall.runtime.badinput import BadInput
from seawall.runtime.events import (
    Event,
    FieldType,
    SourceSpec,
    Value,
    field,
    field_table,
    image_repository,
    register_source,
)
from seawall.safety.limits import max_bytes, max_count
from seawall.safety.nesting import MAX_JSON_DEPTH, json_problem

SOURCE = "k8s_audit"
API_VERSIONS = frozenset({"", "audit.k8s.io/v1", "audit.k8s.io/v1beta1", "audit.k8s.io/v1alpha1"})
STREAMING = frozenset({"exec", "attach", "portforward"})
_SEEN_STARTED = 4096  # exec/attach auditIDs remembered to skip their ResponseComplete twin


class _User(msgspec.Struct):
    username: str = ""
    groups: list[str] = msgspec.field(default_factory=list)


class _ObjectRef(msgspec.Struct):
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    apiGroup: str = ""


class _Status(msgspec.Struct):
    code: int = 0


class AuditEvent(msgspec.Struct):
    """The parts of an audit event rules read; bodies stay raw until needed."""

    kind: str = ""
    apiVersion: str = ""
    auditID: str = ""
    stage: str = ""
    level: str = ""
    verb: str = ""
    requestURI: str = ""
    user: _User = msgspec.field(default_factory=_User)
    impersonatedUser: _User | None = None
    sourceIPs: list[str] = msgspec.field(default_factory=list)
    userAgent: str = ""
    objectRef: _ObjectRef | None = None
    responseStatus: _Status | None = None
    requestObject: msgspec.Raw = msgspec.Raw(b"null")
    responseObject: msgspec.Raw = msgspec.Raw(b"null")
    timestamp: str = ""
    stageTimestamp: str = ""
    requestReceivedTimestamp: str = ""
    annotations: dict[str, str] = msgspec.field(default_factory=dict)


class _Document(AuditEvent):
    """An Event, or an EventList whose items are decoded one by one (a bad one is skipped,
    and ten million ``{}`` items cost 50 bytes each until then, not 430)."""

    items: list[msgspec.Raw] | None = None


_DECODER = msgspec.json.Decoder(_Document)
_ITEM = msgspec.json.Decoder(AuditEvent)


class AuditParser:
    """Turns audit JSON documents into events; counts and skips what is not an audit event."""

    def __init__(self, bad: BadInput | None = None) -> None:
        self.bad = bad or BadInput()
        self._started: OrderedDict[str, None] = OrderedDict()
        self.max_bytes = max_bytes("AUDIT_EVENT")

    def parse(self, data: bytes) -> list[Event]:
        """The events of one Event or EventList document (none when it is not one)."""
        if len(data) > self.max_bytes:
            self.bad("oversized audit event", f"{len(data)} bytes")
            return []
        problem = json_problem(data, MAX_JSON_DEPTH, max_count("JSON_VALUES"))
        if problem:
            self.bad("JSON beyond limits", problem)
            return []
        doc = self._decode(_DECODER, data)
        if doc is None:
            return []
        if doc.kind != "EventList":
            event = self._event(doc)
            return [event] if event is not None else []
        if doc.apiVersion not in API_VERSIONS:
            self.bad("unsupported audit apiVersion", doc.apiVersion)
            return []
        out = []
        for raw in doc.items or ():
            item = self._decode(_ITEM, raw)
            event = self._event(item) if item is not None else None
            if event is not None:
                out.append(event)
        return out

    def _decode(self, decoder: msgspec.json.Decoder[Any], data: bytes | msgspec.Raw) -> Any:
        """``data`` decoded (nesting already checked), or None, counted as bad input."""
        try:
            return decoder.decode(data)
        except msgspec.ValidationError as exc:
            self.bad("non-audit JSON", str(exc))
        except msgspec.DecodeError as exc:
            self.bad("malformed JSON", str(exc))
        return None

    def _event(self, ev: AuditEvent) -> Event | None:
        if ev.kind not in ("Event", "") or not ev.verb or (not ev.kind and not ev.auditID):
            self.bad("non-audit JSON", f"kind={ev.kind!r}")
            return None
        if ev.apiVersion not in API_VERSIONS:
            self.bad("unsupported audit apiVersion", ev.apiVersion)
            return None
        ref = ev.objectRef
        sub = ref.subresource if ref else ""
        if ev.stage == "ResponseStarted":
            if sub not in STREAMING:
                return None  # watches and the like: the ResponseComplete stage follows
            self._remember(ev.auditID)
        elif ev.stage == "RequestReceived":
            return None
        elif ev.stage == "ResponseComplete" and sub in STREAMING and ev.auditID in self._started:
            return None  # already evaluated when the stream started
        resource = ref.resource if ref else ""
        return Event(SOURCE, (ev.verb, resource), ev, {})

    def _remember(self, audit_id: str) -> None:
        self._started[audit_id] = None
        if len(self._started) > _SEEN_STARTED:
            self._started.popitem(last=False)


# ---- body access ---------------------------------------------------------------------------

_WORKLOAD_TEMPLATE = {
    "deployments": ("spec", "template", "spec"),
    "daemonsets": ("spec", "template", "spec"),
    "statefulsets": ("spec", "template", "spec"),
    "replicasets": ("spec", "template", "spec"),
    "replicationcontrollers": ("spec", "template", "spec"),
    "jobs": ("spec", "template", "spec"),
    "cronjobs": ("spec", "jobTemplate", "spec", "template", "spec"),
    "pods": ("spec",),
}


def _decode(raw: msgspec.Raw) -> Any:
    try:
        return msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return None


def request_object(ev: Event) -> dict[str, Any]:
    """The object the request wrote: for patches the logged result when there is one."""
    cached: Any = ev.fields.get("_object")
    if isinstance(cached, dict):
        return cached
    audit: AuditEvent = ev.raw
    request = _decode(audit.requestObject)
    response = _decode(audit.responseObject)
    obj: Any = request
    if audit.verb == "patch" and isinstance(response, dict) and response.get("kind") != "Status":
        obj = response
    elif not isinstance(request, dict) and isinstance(response, dict):
        obj = response if response.get("kind") != "Status" else {}
    result = obj if isinstance(obj, dict) else {}
    ev.fields["_object"] = result  # type: ignore[assignment]
    return result


def _dig(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _pod_spec(ev: Event) -> dict[str, Any]:
    ref = ev.raw.objectRef
    path = _WORKLOAD_TEMPLATE.get(ref.resource if ref else "")
    if path is None or (ref is not None and ref.subresource):
        return {}
    spec = _dig(request_object(ev), *path)
    return spec if isinstance(spec, dict) else {}


def _containers(ev: Event) -> list[dict[str, Any]]:
    spec = _pod_spec(ev)
    out: list[dict[str, Any]] = []
    for key in ("initContainers", "containers", "ephemeralContainers"):
        items = spec.get(key)
        if isinstance(items, list):
            out.extend(c for c in items if isinstance(c, dict))
    return out


def _strings(values: Any) -> tuple[str, ...]:
    """The scalar items of a list, as text (anything else, a string included: none)."""
    if not isinstance(values, list):
        return ()
    return tuple(str(v) for v in values if isinstance(v, str | int | float))


def _container_values(getter: Any) -> Any:
    def extract(ev: Event) -> Value:
        return tuple(str(v) for c in _containers(ev) for v in getter(c) if v is not None)

    return extract


def _privileged(ev: Event) -> Value:
    return tuple(_dig(c, "securityContext", "privileged") is True for c in _containers(ev))  # type: ignore[misc]


def _host_paths(ev: Event) -> Value:
    volumes = _pod_spec(ev).get("volumes")
    if not isinstance(volumes, list):
        return ()
    paths = (_dig(v, "hostPath", "path") for v in volumes)
    return tuple(p.rstrip("/") or "/" for p in paths if isinstance(p, str) and p)


def _spec_flag(name: str) -> Any:
    return lambda ev: _pod_spec(ev).get(name) is True


def _role_rules(key: str) -> Any:
    def extract(ev: Event) -> Value:
        rules = request_object(ev).get("rules")
        if not isinstance(rules, list):
            return ()
        return tuple(v for r in rules if isinstance(r, dict) for v in _strings(r.get(key)))

    return extract


def _service_ports(ev: Event) -> Value:
    ports = _dig(request_object(ev), "spec", "ports")
    if not isinstance(ports, list):
        return ()
    values = [p.get(k) for p in ports if isinstance(p, dict) for k in ("port", "targetPort")]
    return tuple(str(v) for v in values if isinstance(v, int | str))


def _pairs(*path: str) -> Any:
    def extract(ev: Event) -> Value:
        mapping = _dig(request_object(ev), *path)
        if not isinstance(mapping, dict):
            return ()
        return tuple(f"{k}={v}" for k, v in mapping.items() if isinstance(v, str))

    return extract


def _data_entries(ev: Event) -> Value:
    """A ConfigMap's ``data`` as ``key=value`` texts (``binaryData`` is base64: its keys only)."""
    obj = request_object(ev)
    data = obj.get("data")
    entries = (
        [f"{k}={v}" for k, v in data.items() if isinstance(v, str)]
        if isinstance(data, dict)
        else []
    )
    binary = obj.get("binaryData")
    if isinstance(binary, dict):
        entries += [f"{k}=" for k in binary]
    return tuple(entries)


def _ephemeral_images(ev: Event) -> Value:
    """Images of the ephemeral containers a ``pods/ephemeralcontainers`` write adds (the Pod
    the request wrote, or for a patch the Pod it logged)."""
    containers = _dig(request_object(ev), "spec", "ephemeralContainers")
    if not isinstance(containers, list):
        return ()
    return tuple(str(c["image"]) for c in containers if isinstance(c, dict) and c.get("image"))


def _env_entries(ev: Event) -> Value:
    """Containers' literal environment variables as ``NAME=value`` (not those from secrets)."""
    entries = []
    for container in _containers(ev):
        env = container.get("env")
        for item in env if isinstance(env, list) else ():
            if isinstance(item, dict) and isinstance(item.get("value"), str):
                entries.append(f"{item.get('name')}={item['value']}")
    return tuple(entries)


def _ingress_tls(ev: Event) -> Value:
    tls = _dig(request_object(ev), "spec", "tls")
    return isinstance(tls, list) and any(isinstance(t, dict) for t in tls)


def _object_name(ev: Event) -> Value:
    ref = ev.raw.objectRef
    if ref is not None and ref.name:
        return str(ref.name)
    name = _dig(_decode(ev.raw.responseObject), "metadata", "name")
    return name if isinstance(name, str) else ""


def _uri_param(name: str) -> Any:
    def extract(ev: Event) -> Value:
        values = parse_qs(urlsplit(ev.raw.requestURI).query).get(name, [])
        return tuple(dict.fromkeys(values))

    return extract


def _ref(attr: str) -> Any:
    return lambda ev: getattr(ev.raw.objectRef, attr) if ev.raw.objectRef else ""


FIELDS = field_table(
    field(
        "ka.verb",
        lambda ev: ev.raw.verb,
        doc="request verb: get, list, create, patch, ...",
        cached=False,
    ),
    field(
        "ka.target.resource", _ref("resource"), doc="resource: pods, services, ...", cached=False
    ),
    field(
        "ka.target.subresource", _ref("subresource"), doc="exec, attach, status, ...", cached=False
    ),
    field("ka.target.namespace", _ref("namespace"), cached=False),
    field(
        "ka.target.name",
        _object_name,
        doc="object name (from the response for generated names)",
    ),
    field("ka.target.apigroup", _ref("apiGroup"), cached=False),
    field("ka.uri", lambda ev: ev.raw.requestURI, cached=False),
    field("ka.stage", lambda ev: ev.raw.stage, cached=False),
    field("ka.level", lambda ev: ev.raw.level, cached=False),
    field("ka.auditid", lambda ev: ev.raw.auditID, cached=False),
    field("ka.user.name", lambda ev: ev.raw.user.username, cached=False),
    field("ka.user.groups", lambda ev: tuple(ev.raw.user.groups), multi=True),
    field(
        "ka.impuser.name",
        lambda ev: ev.raw.impersonatedUser.username if ev.raw.impersonatedUser else "",
    ),
    field("ka.sourceips", lambda ev: tuple(ev.raw.sourceIPs), FieldType.IP, multi=True),
    field("ka.useragent", lambda ev: ev.raw.userAgent, cached=False),
    field(
        "ka.auth.decision",
        lambda ev: ev.raw.annotations.get("authorization.k8s.io/decision", ""),
        cached=False,
    ),
    field("ka.auth.reason", lambda ev: ev.raw.annotations.get("authorization.k8s.io/reason", "")),
    field(
        "ka.response.code",
        lambda ev: ev.raw.responseStatus.code if ev.raw.responseStatus else None,
        FieldType.INT,
        cached=False,
    ),
    field(
        "ka.exec.command",
        _uri_param("command"),
        multi=True,
        doc="exec command words from the URI",
    ),
    field("ka.exec.container", _uri_param("container"), multi=True),
    field("ka.req.kind", lambda ev: str(request_object(ev).get("kind") or "")),
    field(
        "ka.req.labels",
        _pairs("metadata", "labels"),
        multi=True,
        doc="object labels as key=value",
    ),
    field("ka.req.pod.containers.image", _container_values(lambda c: [c.get("image")]), multi=True),
    field(
        "ka.req.pod.containers.image.repository",
        _container_values(lambda c: [image_repository(str(c.get("image") or ""))]),
        multi=True,
    ),
    field("ka.req.pod.containers.name", _container_values(lambda c: [c.get("name")]), multi=True),
    field(
        "ka.req.pod.containers.command",
        _container_values(
            lambda c: [" ".join(_strings(c.get("command")) + _strings(c.get("args")))]
        ),
        multi=True,
    ),
    field("ka.req.pod.containers.privileged", _privileged, FieldType.BOOL, multi=True),
    field(
        "ka.req.pod.containers.add_capabilities",
        _container_values(lambda c: _strings(_dig(c, "securityContext", "capabilities", "add"))),
        multi=True,
    ),
    field("ka.req.pod.volumes.hostpath", _host_paths, multi=True),
    field("ka.req.pod.host_network", _spec_flag("hostNetwork"), FieldType.BOOL),
    field("ka.req.pod.host_pid", _spec_flag("hostPID"), FieldType.BOOL),
    field("ka.req.pod.host_ipc", _spec_flag("hostIPC"), FieldType.BOOL),
    field("ka.req.binding.role", lambda ev: str(_dig(request_object(ev), "roleRef", "name") or "")),
    field(
        "ka.req.binding.subjects",
        lambda ev: tuple(
            str(s.get("name"))
            for s in (request_object(ev).get("subjects") or [])
            if isinstance(s, dict)
        ),
        multi=True,
    ),
    field("ka.req.role.rules.verbs", _role_rules("verbs"), multi=True),
    field("ka.req.role.rules.resources", _role_rules("resources"), multi=True),
    field("ka.req.role.rules.apigroups", _role_rules("apiGroups"), multi=True),
    field("ka.req.service.type", lambda ev: str(_dig(request_object(ev), "spec", "type") or "")),
    field("ka.req.service.ports", _service_ports, multi=True, doc="port and targetPort values"),
    field("ka.req.service.selector", _pairs("spec", "selector"), multi=True),
    field(
        "ka.req.service.source_ranges",
        lambda ev: _strings(_dig(request_object(ev), "spec", "loadBalancerSourceRanges")),
        multi=True,
        doc="the LoadBalancer's loadBalancerSourceRanges",
    ),
    field("ka.req.configmap.data", _data_entries, multi=True, doc="key=value of data"),
    field(
        "ka.req.pod.ephemeral_containers.image",
        _ephemeral_images,
        multi=True,
        doc="images of ephemeral containers (pods/ephemeralcontainers)",
    ),
    field(
        "ka.req.pod.containers.env",
        _env_entries,
        multi=True,
        doc="NAME=value of containers' literal env",
    ),
    field("ka.req.ingress.tls", _ingress_tls, FieldType.BOOL, doc="the Ingress has spec.tls"),
)

_KINDS = {
    "pods": "Pod", "services": "Service", "deployments": "Deployment", "daemonsets": "DaemonSet",
    "statefulsets": "StatefulSet", "replicasets": "ReplicaSet", "jobs": "Job",
    "cronjobs": "CronJob",
    "configmaps": "ConfigMap", "secrets": "Secret", "namespaces": "Namespace", "events": "Event",
    "roles": "Role", "clusterroles": "ClusterRole", "rolebindings": "RoleBinding",
    "clusterrolebindings": "ClusterRoleBinding", "serviceaccounts": "ServiceAccount",
    "nodes": "Node", "ingresses": "Ingress",
    "mutatingwebhookconfigurations": "MutatingWebhookConfiguration",
    "validatingwebhookconfigurations": "ValidatingWebhookConfiguration",
}  # fmt: skip


def _resource(ev: Event) -> Resource:
    audit: AuditEvent = ev.raw
    ref = audit.objectRef or _ObjectRef()
    name = str(FIELDS["ka.target.name"].extract(ev) or "")
    attributes = {}
    if ref.resource == "pods" and name:
        attributes["pod"] = name
        containers = _uri_param("container")(ev) or FIELDS["ka.req.pod.containers.name"].extract(ev)
        if containers:
            attributes["container"] = ",".join(containers)  # type: ignore[arg-type]
    kind = _KINDS.get(ref.resource, ref.resource or "request")
    if not ref.resource:
        name = audit.requestURI.split("?", 1)[0]
    return Resource(kind=kind, name=name, namespace=ref.namespace, attributes=attributes)


def _time(ev: Event) -> str:
    audit: AuditEvent = ev.raw
    return audit.stageTimestamp or audit.requestReceivedTimestamp or audit.timestamp


SPEC = register_source(
    SourceSpec(
        name=SOURCE,
        fields=FIELDS,
        index_fields=("ka.verb", "ka.target.resource"),
        resource=_resource,
        time=_time,
    )
)
