"""The posture rule and the run-time rule judge the same consoles: every name the run-time
pack calls sensitive (k8s-exposed-service) is a console to the ``exposed-console`` policy."""

from __future__ import annotations

from importlib import resources

import yaml

from seawall.policy.builtin.rbac import CONSOLES


def test_the_policy_knows_every_console_the_run_time_pack_knows() -> None:
    pack = resources.files("seawall.runtime.rules").joinpath("k8s_audit.yaml").read_text()
    lists = {e["list"]: e["items"] for e in yaml.safe_load(pack) if "list" in e}
    assert set(lists["sensitive_service_names"]) <= set(CONSOLES)
