"""CIS Kubernetes Benchmark section 2: etcd. etcd reads each flag also from an ``ETCD_*``
environment variable (``--cert-file`` from ``ETCD_CERT_FILE``); a flag wins over it."""

from __future__ import annotations

from seawall.hardening.benchmark import Result, verdict
from seawall.hardening.errors import NotApplicable, Unassessable
from seawall.hardening.kubernetes import expect
from seawall.hardening.kubernetes.components import APISERVER, ETCD, ETCD_VARIABLES
from seawall.hardening.kubernetes.expect import Expect
from seawall.hardening.kubernetes.facts import NodeFacts
from seawall.hardening.kubernetes.registry import node_check
from seawall.model import Status


def _etcd_check(check_id: str, flags: tuple[str, ...], wish: Expect, default: str = "") -> None:
    @node_check(check_id, flags=flags, expect=wish, default=default or None)
    def run(facts: NodeFacts) -> Result:
        etcd = facts.component(ETCD)
        found = [etcd.setting(flag, ETCD_VARIABLES) for flag in flags]
        shown = "; ".join(evidence for _, evidence in found)
        bad = [flag for flag, (value, _) in zip(flags, found, strict=True)
               if not wish.holds(value if value is not None else default)]  # fmt: skip
        return verdict(bool(bad), f"{shown} (want {wish.wanted})", shown)


_etcd_check("2.1", ("cert-file", "key-file"), expect.IS_SET)
_etcd_check("2.2", ("client-cert-auth",), expect.equals("true"), default="false")
_etcd_check("2.3", ("auto-tls",), expect.not_equals("true"), default="false")
_etcd_check("2.4", ("peer-cert-file", "peer-key-file"), expect.IS_SET)
_etcd_check("2.5", ("peer-client-cert-auth",), expect.equals("true"), default="false")
_etcd_check("2.6", ("peer-auto-tls",), expect.not_equals("true"), default="false")


@node_check("2.7")
def unique_ca(facts: NodeFacts) -> Result:
    """etcd trusts its own CA, not the one that signs the cluster's clients: with a shared
    CA, any client certificate of the cluster would be accepted by etcd."""
    etcd = facts.component(ETCD)
    trusted, shown = etcd.setting("trusted-ca-file", ETCD_VARIABLES)
    if not trusted:
        return Result(Status.FAIL, f"{shown}: etcd does not check client certificates")
    try:
        cluster_ca = facts.component(APISERVER).value("client-ca-file")
    except (NotApplicable, Unassessable):
        cluster_ca = None
    if cluster_ca is None:
        return Result(Status.PASS, f"{shown}; the API server's client CA is not known here")
    return verdict(
        trusted == cluster_ca,
        f"{shown} is also the API server's --client-ca-file",
        f"{shown}; the API server's --client-ca-file is {cluster_ca}",
    )
