"""CIS Kubernetes Benchmark section 3: how people authenticate (3.1, left to people) and
the API server's audit policy (3.2), read and matched the way the API server matches it."""

from __future__ import annotations

from typing import Any

from seawall.hardening.benchmark import Result, verdict
from seawall.hardening.errors import Unassessable
from seawall.hardening.kubernetes import expect
from seawall.hardening.kubernetes.components import APISERVER
from seawall.hardening.kubernetes.facts import NodeFacts
from seawall.hardening.kubernetes.registry import flag_check, node_check
from seawall.model import Status


def _authentication_review(check_id: str, note: str) -> None:
    """Left to people, once per cluster: reported on control-plane nodes only."""

    @node_check(check_id)
    def review(facts: NodeFacts) -> Result:
        facts.require_control_plane()
        return Result(Status.MANUAL, f"review how people authenticate: {note}")


_authentication_review("3.1.1", "client certificates cannot be revoked")
_authentication_review("3.1.2", "service account tokens are for workloads, not people")
_authentication_review("3.1.3", "bootstrap tokens are for joining nodes")
flag_check("3.2.1", APISERVER, "audit-policy-file", expect.IS_SET)

_METADATA = frozenset({"Metadata"})  # higher levels log the contents of secrets
_LOGGED = frozenset({"Metadata", "Request", "RequestResponse"})
# (what, API group, resource, verb, the levels that satisfy the benchmark)
_CONCERNS = (
    ("read secrets", "", "secrets", "get", _METADATA),
    ("change configmaps", "", "configmaps", "update", _METADATA),
    ("create tokenreviews", "authentication.k8s.io", "tokenreviews", "create", _METADATA),
    ("create pods", "", "pods", "create", _LOGGED),
    ("change deployments", "apps", "deployments", "patch", _LOGGED),
    ("exec in pods", "", "pods/exec", "create", _LOGGED),
    ("port-forward to pods", "", "pods/portforward", "create", _LOGGED),
    ("proxy to pods", "", "pods/proxy", "get", _LOGGED),
    ("proxy to services", "", "services/proxy", "get", _LOGGED),
)  # fmt: skip
_RESTRICTING = ("users", "userGroups", "namespaces", "nonResourceURLs")


def _resource_matches(pattern: str, resource: str) -> bool:
    """An audit rule's resource: ``pods``, ``pods/exec``, ``pods/*``, ``*/scale``, ``*``."""
    if pattern in ("*", resource):
        return True
    main, _, sub = resource.partition("/")
    if pattern == f"{main}/*":
        return bool(sub)
    return pattern == f"*/{sub}" if sub else False


def _rule_matches(rule: dict[str, Any], group: str, resource: str, verb: str) -> bool:
    if any(rule.get(key) for key in _RESTRICTING):
        return False  # a rule for some users or namespaces does not decide for everyone
    verbs = rule.get("verbs") or []
    if verbs and verb not in verbs:
        return False
    kinds = rule.get("resources") or []
    if not kinds:
        return True
    for kind in kinds:
        if not isinstance(kind, dict) or kind.get("group", "") not in (group, "*"):
            continue
        names = kind.get("resources") or ["*"]
        if any(_resource_matches(str(name), resource) for name in names):
            return True
    return False


def audit_level(rules: list[Any], group: str, resource: str, verb: str) -> str:
    """The level the first matching rule gives a request (``None`` if no rule matches)."""
    for rule in rules:
        if isinstance(rule, dict) and _rule_matches(rule, group, resource, verb):
            return str(rule.get("level", "None"))
    return "None"


@node_check("3.2.2")
def audit_policy_coverage(facts: NodeFacts) -> Result:
    """Secrets, configmaps and token reviews at Metadata (higher levels log their contents);
    pod and deployment changes, exec, port-forward and proxying logged at all."""
    apiserver = facts.component(APISERVER)
    path = apiserver.value("audit-policy-file")
    if not path:
        return Result(Status.FAIL, apiserver.shown("audit-policy-file") + ": nothing is audited")
    policy = facts.document(path, "an audit Policy")
    rules = policy.get("rules")
    if not isinstance(rules, list):
        raise Unassessable(f"{path} is not an audit Policy (no rules)")
    levels = [(what, audit_level(rules, g, r, v), wanted) for what, g, r, v, wanted in _CONCERNS]
    bad = [f"{what}: {level}" for what, level, wanted in levels if level not in wanted]
    shown = f"{path}: " + "; ".join(f"{what}: {level}" for what, level, _ in levels)
    return verdict(bool(bad), f"{path}: {'; '.join(bad)} (want secrets, configmaps and "
                   "tokenreviews at Metadata, the rest logged)", shown)  # fmt: skip
