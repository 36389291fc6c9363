"""Run-time threat detection: event sources, the rule language and detector, threat intel.

Events from Kubernetes audit logs, the Docker Engine and Linux audit are normalised into
:class:`seawall.runtime.events.Event`, matched against rules written as data (YAML, see
``docs/runtime.md``) and turned into folded :class:`seawall.model.Alert` records.
"""
