"""Cluster listing by API discovery: every listable resource the policies care about (CRDs
that embed pod templates included), subresources and non-listable resources skipped, and a
403 on one resource a warning rather than the end of the listing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from seawall.policy.cluster import list_cluster
from seawall.policy.discovery import ApiResource, _resources, discover, relevant
from seawall.policy.engine import PolicyEngine
from seawall.policy.kubeapi import connect
from seawall.policy.library import PolicyLibrary
from seawall.policy.objects import normalise
from tests.policy.apiserver import api_server
from tests.policy.support import GATEKEEPER, fixture_engine


def test_discovery_lists_listable_resources_at_preferred_versions(tmp_path: Path) -> None:
    warnings: list[str] = []
    with api_server(tmp_path) as server:
        api = connect(server.kubeconfig)
        resources = {(r.api_version, r.name): r for r in discover(api, warnings.append)}
        api.close()
    assert resources[("apps/v1", "deployments")] == ApiResource(
        "apps", "v1", "deployments", "Deployment", True
    )
    assert resources[("argoproj.io/v1alpha1", "rollouts")].path == (
        "/apis/argoproj.io/v1alpha1/rollouts"
    )
    assert resources[("v1", "namespaces")].namespaced is False
    assert ("apps.openshift.io/v1", "deploymentconfigs") in resources
    # Subresources and resources without the list verb are not listable.
    assert not [name for _, name in resources if "/" in name]
    assert ("v1", "bindings") not in resources
    assert not [key for key in resources if key[0] == "authentication.k8s.io/v1"]
    # An announced group whose document fails is a warning, not the end.
    assert len(warnings) == 1 and "/apis/metrics.k8s.io/v1beta1" in warnings[0]


def test_relevant_resources() -> None:
    def resource(group: str, kind: str) -> ApiResource:
        return ApiResource(group, "v1", kind.lower() + "s", kind, True)

    assert relevant(resource("apps", "Deployment"))
    assert relevant(resource("argoproj.io", "Rollout"))  # a CRD may embed a pod template
    assert not relevant(resource("", "Event"))
    assert not relevant(resource("coordination.k8s.io", "Lease"))
    assert not relevant(resource("", "Secret"))  # credentials are not read by default
    engine = PolicyEngine(
        library=PolicyLibrary.load(
            [str(GATEKEEPER / "general" / "requiredlabels" / "template.yaml")]
        )
    )
    assert not engine.cares_about(resource("", "Secret"))


def test_listing_evaluates_crds_that_embed_pod_templates(tmp_path: Path) -> None:
    with api_server(tmp_path) as server:
        listed = list(list_cluster(server.kubeconfig, warn=lambda message: None))
        requests = list(server.requests)
    kinds = {(o.kind, o.name) for o in listed}
    assert {("Rollout", "canary"), ("DeploymentConfig", "legacy")} <= kinds
    failed = {(f.resource.name, f.rule.id) for f in fixture_engine().findings(listed)}
    assert ("canary", "pss-baseline-privileged") in failed
    assert ("legacy", "pss-baseline-host-namespaces") in failed
    # Nothing the policies ignore is read: no Secrets, Events or subresources.
    paths = [p.split("?", 1)[0] for p in requests]
    assert "/api/v1/configmaps" in paths and "/apis/argoproj.io/v1alpha1/analysistemplates" in paths
    assert not [p for p in paths if p.endswith(("/secrets", "/events", "/log", "/status"))]


def test_a_forbidden_resource_is_a_warning_and_the_rest_is_listed(tmp_path: Path) -> None:
    warnings: list[str] = []
    with api_server(tmp_path, forbidden={"/apis/apps/v1/daemonsets"}) as server:
        listed = {(o.kind, o.name) for o in list_cluster(server.kubeconfig, warn=warnings.append)}
    assert ("DaemonSet", "log-agent") not in listed
    assert {("Deployment", "web"), ("CronJob", "report"), ("Rollout", "canary")} <= listed
    (forbidden,) = [w for w in warnings if "daemonsets" in w]
    assert "daemonsets.apps/v1" in forbidden and "403 Forbidden" in forbidden


def test_a_constraint_naming_a_kind_makes_the_listing_read_it(tmp_path: Path) -> None:
    constraint = tmp_path / "secrets.yaml"
    constraint.write_text(
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sRequiredLabels\n"
        "metadata: {name: secrets-need-owner}\n"
        "spec: {match: {kinds: [{apiGroups: [''], kinds: [Secret]}]},"
        " parameters: {labels: [{key: owner}]}}\n"
    )
    template = GATEKEEPER / "general" / "requiredlabels" / "template.yaml"
    engine = PolicyEngine(library=PolicyLibrary.load([str(template), str(constraint)]))
    with api_server(tmp_path) as server:
        list(list_cluster(server.kubeconfig, wanted=engine.cares_about, warn=print))
        assert "/api/v1/secrets?limit=500" in server.requests


def test_generic_pod_template_locator() -> None:
    scheduled = normalise(
        {
            "apiVersion": "example.com/v1",
            "kind": "ScheduledWorkload",
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{}]}}}}},
        }
    )
    assert scheduled.pod_path == "spec.jobTemplate.spec.template.spec"
    assert [c.path for c in scheduled.containers] == [
        "spec.jobTemplate.spec.template.spec.containers[0]"
    ]
    # A template that is not a pod template, and a built-in kind, are left alone.
    other = {"spec": {"template": {"spec": {"replicas": 2}}}}
    assert not normalise({"kind": "Widget", **other}).has_pod
    service = {"kind": "Service", "spec": {"template": {"spec": {"containers": []}}}}
    assert not normalise(service).has_pod


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
ENTRY = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.text(max_size=12), JSON),
        "kind": st.one_of(st.text(max_size=8), JSON),
        "verbs": st.one_of(st.lists(st.sampled_from(["get", "list", "watch"])), JSON),
        "namespaced": JSON,
    },
)


@given(st.fixed_dictionaries({}, optional={"resources": st.lists(ENTRY | JSON, max_size=6) | JSON}))
def test_hostile_resource_lists_never_break_discovery(document: dict[str, Any]) -> None:
    for resource in _resources(document, "example.com", "v1"):
        assert isinstance(resource.name, str) and isinstance(resource.kind, str)
        assert resource.name and resource.kind and "/" not in resource.name
