"""Shared set-up of the runtime commands: rules plus threat intelligence, from options."""

from __future__ import annotations

from pathlib import Path

from seawall.errors import InputError
from seawall.runtime.intel import IntelDB
from seawall.runtime.rules.loader import RuleSet, load_rules

DEFAULT_INTEL_CATEGORY = "malicious"


def load_intel(specs: list[str]) -> IntelDB:
    """``CATEGORY=FILE`` (or ``FILE``, category "malicious") items into one IntelDB."""
    intel = IntelDB()
    for spec in specs:
        category, sep, name = spec.partition("=")
        if not sep:
            category, name = DEFAULT_INTEL_CATEGORY, spec
        if not category or not name:
            raise InputError(f"bad --intel {spec!r}", hint="use CATEGORY=FILE, e.g. tor=exits.txt")
        intel.load(category.strip(), Path(name))
    return intel


def detection_context(cluster: str = "", host: str = "") -> dict[str, dict[str, str]]:
    """What the detector puts on alerts of each source: the cluster name on Kubernetes
    audit alerts (when given), the host (default: this machine's name) on Docker ones."""
    import socket

    return {
        "k8s_audit": {"cluster": cluster} if cluster else {},
        "docker": {"host": host or socket.gethostname()},
    }


def load_detection(rule_files: list[Path], intel_specs: list[str]) -> RuleSet:
    """The built-in rules plus ``rule_files``, compiled against the loaded intel."""
    return load_rules(rule_files, load_intel(intel_specs))
