"""Kubernetes audit events: the real samples, stages, EventLists, patches, hostile input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.runtime.badinput import BadInput
from seawall.runtime.sources.k8s_audit import AuditParser
from tests.runtime.conftest import K8S, alerts_for, rule_ids

EXPECTED = {
    "anonymous_creates_namespace_foo.json": ["k8s-anonymous-request-allowed"],
    "attach_cluster_admin_role.json": ["k8s-cluster-admin-binding"],
    "create_cluster_role_wildcard_verbs.json": ["k8s-high-privilege-role"],
    "create_clusterrolebinding.json": [],
    "create_configmap_sensitive_values.json": ["k8s-configmap-credentials"] * 2,
    "create_deployment.json": [],
    "create_kube_system_secret.json": [],
    "create_nginx_pod_privileged.json": ["k8s-privileged-container"],
    "create_nginx_pod_sensitive_mount.json": ["k8s-sensitive-mount"],
    "create_nginx_pod_unprivileged.json": [],
    "create_nginx_pod_unsensitive_mount.json": [],
    "exec_pod.json": ["k8s-exec-attach"],
}


# Events written here in the API server's wire format (recorded/README.md): each behaviour of
# Falco's k8saudit rules and Defender's cluster alerts the samples above lack, and benign
# activity (a minikube start, ordinary workloads) that must raise nothing.
RECORDED = {
    "benign_workloads.json": [],
    "minikube_start.json": [],
    "create_configmap_aws_key.json": ["k8s-configmap-credentials"],
    "create_ingress_without_tls.json": ["k8s-ingress-without-tls"],
    "create_node_by_user.json": ["k8s-node-registered-by-other"],
    "create_node_refused.json": ["k8s-node-registration-refused"],
    "create_pod_hostipc.json": ["k8s-host-namespace-pod"],
    "create_pod_hostnetwork.json": ["k8s-host-namespace-pod"],
    "create_pod_hostpid.json": ["k8s-host-namespace-pod"],
    "create_pod_kube_public.json": ["k8s-kube-system-container"],
    "create_role_pod_exec.json": ["k8s-role-pod-exec", "k8s-role-write-privileges"],
    "create_role_write.json": ["k8s-role-write-privileges"],
    "create_service_nodeport.json": ["k8s-nodeport-service"],
    "create_service_postgres_loadbalancer.json": ["k8s-postgres-exposed"],
    "create_serviceaccount_kube_system.json": ["k8s-kube-namespace-service-account"],
    "create_statefulset_postgres_trust.json": ["k8s-postgres-trust-auth"],
    "debug_ephemeral_container.json": ["k8s-ephemeral-container"],
    "delete_system_clusterrole.json": ["k8s-system-role-modified"],
    "patch_system_clusterrole.json": ["k8s-high-privilege-role", "k8s-system-role-modified"],
    "portforward_pod.json": ["k8s-port-forward"],
}


def parse_file(name: str, parser: AuditParser | None = None) -> list:
    parser = parser or AuditParser()
    return [e for line in (K8S / name).read_bytes().splitlines() for e in parser.parse(line)]


@pytest.mark.parametrize(("name", "expected"), sorted(EXPECTED.items()))
def test_real_audit_events_raise_exactly_the_expected_alerts(
    name: str, expected: list[str]
) -> None:
    assert rule_ids(alerts_for(parse_file(name))) == expected


def test_every_sample_is_covered() -> None:
    names = {p.name for p in K8S.glob("*.json")} - {"fal_01_003.json"}
    assert names == set(EXPECTED)
    assert {p.name for p in (K8S / "recorded").glob("*.json")} == set(RECORDED)


@pytest.mark.parametrize(("name", "expected"), sorted(RECORDED.items()))
def test_recorded_events_raise_exactly_the_expected_alerts(name: str, expected: list[str]) -> None:
    assert rule_ids(alerts_for(parse_file(f"recorded/{name}"))) == expected


def test_new_alerts_carry_their_evidence() -> None:
    (ephemeral,) = alerts_for(parse_file("recorded/debug_ephemeral_container.json"))
    assert "nicolaka/netshoot:v0.13" in ephemeral.evidence["message"]
    assert ephemeral.resource.namespace == "shop" and ephemeral.tactic == "Execution"
    (trust,) = alerts_for(parse_file("recorded/create_statefulset_postgres_trust.json"))
    assert "postgres:16" in trust.evidence["message"] and trust.tactic == "InitialAccess"
    (hostpid,) = alerts_for(parse_file("recorded/create_pod_hostpid.json"))
    assert (
        "hostPID true" in hostpid.evidence["message"]
        and "hostNetwork false" in hostpid.evidence["message"]
    )
    (node,) = alerts_for(parse_file("recorded/create_node_by_user.json"))
    assert (
        "203.0.113.50" in node.evidence["message"]
        and "alice@example.com" in node.evidence["message"]
    )


def test_alert_carries_evidence_resource_and_tactic() -> None:
    (alert,) = alerts_for(parse_file("create_nginx_pod_privileged.json"))
    assert alert.resource.kind == "Pod"
    assert alert.resource.namespace == "default"
    assert alert.resource.name == "nginx-deployment-5cdcc99dbf-rgw6z"
    assert alert.resource.attributes["container"] == "nginx"
    assert alert.evidence["ka.req.pod.containers.privileged"] == "true"
    assert alert.evidence["ka.user.name"].endswith("replicaset-controller")
    assert alert.tactic == "PrivilegeEscalation"
    assert alert.technique == "T1611"
    assert alert.time == "2018-10-25T14:09:12.581541Z"
    assert alert.rule.remediation
    assert alert.id.startswith("swa-")


def test_exec_alert_names_pod_container_and_command() -> None:
    (alert,) = alerts_for(parse_file("exec_pod.json"))
    assert alert.resource.attributes == {
        "pod": "nginx-deployment-7998647bdf-phvq7",
        "container": "nginx1",
    }
    assert alert.evidence["ka.exec.command"] == "bash"


def test_not_an_audit_event_is_counted_and_skipped() -> None:
    bad = BadInput()
    assert AuditParser(bad).parse((K8S / "fal_01_003.json").read_bytes()) == []
    assert bad.counts == {"non-audit JSON": 1}


def test_metadata_level_event_without_body_is_read() -> None:
    (event,) = parse_file("create_kube_system_secret.json")
    assert event.key == ("create", "secrets")
    assert alerts_for([event]) == []


def test_eventlist_batches_as_the_webhook_sends_them() -> None:
    items = [
        json.loads(line) for name in EXPECTED for line in (K8S / name).read_bytes().splitlines()
    ]
    batch = json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": items})
    alerts = alerts_for(AuditParser().parse(batch.encode()))
    expected = sorted(rule for rules in EXPECTED.values() for rule in rules)
    assert rule_ids(alerts) == expected


def test_exec_stream_stages_alert_once() -> None:
    started = json.loads((K8S / "exec_pod.json").read_bytes())
    complete = dict(started, stage="ResponseComplete")
    received = dict(started, stage="RequestReceived")
    parser = AuditParser()
    events = [
        e for ev in (received, started, complete) for e in parser.parse(json.dumps(ev).encode())
    ]
    assert len(events) == 1
    # With ResponseStarted omitted by the audit policy, ResponseComplete is evaluated.
    assert len(AuditParser().parse(json.dumps(complete).encode())) == 1


def test_watch_response_started_is_skipped() -> None:
    line = json.loads((K8S / "create_deployment.json").read_bytes())
    line.update(stage="ResponseStarted", verb="watch")
    assert AuditParser().parse(json.dumps(line).encode()) == []


def test_patch_uses_the_logged_result() -> None:
    base = json.loads((K8S / "create_nginx_pod_privileged.json").read_bytes())
    patch = dict(
        base,
        verb="patch",
        requestObject={
            "spec": {"containers": [{"name": "nginx", "securityContext": {"privileged": True}}]}
        },
    )
    assert rule_ids(alerts_for(AuditParser().parse(json.dumps(patch).encode()))) == [
        "k8s-privileged-container"
    ]
    # A merge patch without a logged response is read as the partial object it is.
    patch.pop("responseObject")
    patch["objectRef"] = dict(base["objectRef"], name="web")
    assert rule_ids(alerts_for(AuditParser().parse(json.dumps(patch).encode()))) == [
        "k8s-privileged-container"
    ]


def test_v1_event_without_api_version_and_failed_request() -> None:
    line = json.loads((K8S / "attach_cluster_admin_role.json").read_bytes())
    assert "apiVersion" not in line
    line["responseStatus"] = {"code": 403}
    assert alerts_for(AuditParser().parse(json.dumps(line).encode())) == []


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b'{"kind":"Event","verb":"get"', "malformed JSON"),
        (b"not json at all", "malformed JSON"),
        (b"[1, 2, 3]", "non-audit JSON"),
        (b'"just a string"', "non-audit JSON"),
        (b'{"kind":"Event","verb":"get","user":"bob","auditID":"x"}', "non-audit JSON"),
        (b'{"kind":"Pod","apiVersion":"v1"}', "non-audit JSON"),
        (
            b'{"kind":"Event","apiVersion":"audit.k8s.io/v2","verb":"get","auditID":"x"}',
            "unsupported audit apiVersion",
        ),
        (b"[" * 100_000 + b"]" * 100_000, "JSON beyond limits"),
        (
            b'{"kind":"Event","verb":"get","auditID":"x","requestObject":'
            + b"[" * 100_000
            + b"]" * 100_000
            + b"}",
            "JSON beyond limits",
        ),
    ],
)
def test_hostile_documents_are_counted(data: bytes, kind: str) -> None:
    bad = BadInput()
    assert AuditParser(bad).parse(data) == []
    assert bad.counts == {kind: 1}


def test_huge_event_is_refused_before_decoding() -> None:
    bad = BadInput()
    huge = (
        b'{"kind":"Event","verb":"get","auditID":"x","requestURI":"'
        + b"a" * (5 * 1024 * 1024)
        + b'"}'
    )
    assert AuditParser(bad).parse(huge) == []
    assert bad.counts == {"oversized audit event": 1}


def test_truncated_lines_of_real_events() -> None:
    line = (K8S / "create_nginx_pod_privileged.json").read_bytes().strip()
    bad = BadInput()
    parser = AuditParser(bad)
    for cut in range(0, len(line), 97):
        assert parser.parse(line[:cut]) == []
    assert set(bad.counts) == {"malformed JSON"}


def test_hostile_bodies_do_not_break_field_extraction() -> None:
    line = json.loads((K8S / "create_nginx_pod_privileged.json").read_bytes())
    for body in (
        {"spec": "nope"},
        {"spec": {"containers": "x", "volumes": [1, None, {"hostPath": 5}]}},
        {"spec": {"containers": [None, 1, {"securityContext": []}]}},
        [{"op": "add", "path": "/spec", "value": {}}],
    ):
        hostile = dict(line, requestObject=body, responseObject=None)
        assert alerts_for(AuditParser().parse(json.dumps(hostile).encode())) == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "kind",
                "verb",
                "auditID",
                "stage",
                "objectRef",
                "user",
                "sourceIPs",
                "requestObject",
                "responseObject",
                "responseStatus",
                "annotations",
                "items",
                "apiVersion",
            ]
        ),
        json_values,
    )
)
def test_fuzzed_events_never_escape_the_parser(doc: dict) -> None:
    bad = BadInput()
    for event in AuditParser(bad).parse(json.dumps(doc).encode()):
        alerts_for([event])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_are_counted(data: bytes) -> None:
    bad = BadInput()
    assert AuditParser(bad).parse(data) == [] or bad.total() == 0
