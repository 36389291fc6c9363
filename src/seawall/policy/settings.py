"""Settings of the built-in policies and of enforcement, read from a YAML file.

```yaml
trustedRegistries: [registry.example.com/, mcr.microsoft.com/]
allowedCapabilities: [NET_BIND_SERVICE]
allowedPullPolicies: [Always]
imageSeverityThreshold: high
disabledRules: [bp-probes]
actions: {pss-restricted-seccomp: warn, default: deny}
exemptNamespaces: [kube-system]
```
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from seawall.errors import InputError
from seawall.model import Severity
from seawall.safety.files import read_regular
from seawall.safety.limits import max_bytes
from seawall.safety.yaml import read_yaml

ACTIONS = ("deny", "warn", "dryrun")


class PolicySettings(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Parameters of the built-in policies and how violations are enforced."""

    trusted_registries: tuple[str, ...] = ()  # prefixes; empty: the check is not evaluated
    allowed_capabilities: tuple[str, ...] = ()
    allowed_pull_policies: tuple[str, ...] = ("Always",)
    image_severity_threshold: str = "high"
    disabled_rules: tuple[str, ...] = ()
    # Enforcement action per rule id ("deny", "warn", "dryrun"); "default" for the rest.
    actions: dict[str, str] = msgspec.field(default_factory=dict)
    exempt_namespaces: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        try:
            Severity.parse(self.image_severity_threshold)
        except ValueError as exc:
            raise InputError(f"imageSeverityThreshold: {exc}") from None
        for rule, action in self.actions.items():
            if action not in ACTIONS:
                raise InputError(f"actions.{rule}: {action!r} is not one of {', '.join(ACTIONS)}")

    @property
    def severity_threshold(self) -> Severity:
        return Severity.parse(self.image_severity_threshold)

    def action(self, rule_id: str) -> str:
        return self.actions.get(rule_id) or self.actions.get("default") or "deny"


def load_settings(path: Path | None) -> PolicySettings:
    """Settings from ``path`` (YAML), or the defaults."""
    if path is None:
        return PolicySettings()
    documents = read_yaml(read_regular(path, max_bytes("SETTINGS")), str(path), max_documents=1)
    raw = (documents[0] if documents else None) or {}
    try:
        return msgspec.convert(raw, PolicySettings)
    except msgspec.ValidationError as exc:
        raise InputError(f"{path}: {exc}") from None
