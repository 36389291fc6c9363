"""The kubelet's effective settings: its flags over its config file's drop-ins over its
config file over the defaults.

The defaults depend on how the kubelet was started: with a config file (``--config``), the
KubeletConfiguration defaults apply (anonymous access off, Webhook authorization, read-only
port off); without one, the flag defaults apply (anonymous access on, AlwaysAllow, port
10255). A check names both defaults and gets the one in force.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from seawall.errors import InputError
from seawall.hardening.errors import Unassessable
from seawall.hardening.hostfiles import HostFiles
from seawall.hardening.kubernetes.components import Component
from seawall.safety.yaml import read_yaml

_UNSET = object()


@dataclass(frozen=True)
class Setting:
    """A kubelet setting in force and where it came from (the evidence)."""

    value: Any
    source: str
    explicit: bool  # set by a flag or a config file, not a default


@dataclass
class KubeletSettings:
    """The kubelet's flags (``component``) and its config layers, lowest first."""

    component: Component
    config_file: str = ""
    layers: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def get(
        self, flag: str | None, key: str | None, *, flag_default: Any = None,
        config_default: Any = None,
    ) -> Setting:  # fmt: skip
        """The setting given by ``--flag`` or config ``key`` (dotted), else its default;
        ``None`` as a default means "not set"."""
        if flag:
            value = self.component.value(flag)
            if value is not None:
                return Setting(value, self.component.shown(flag), True)
        if key:
            for path, layer in reversed(self.layers):
                found = _lookup(layer, key)
                if found is not _UNSET:
                    return Setting(found, f"{key}: {json.dumps(found)} in {path}", True)
        default = config_default if self.config_file else flag_default
        where = (
            f"{key} is not set in {self.config_file}" if self.config_file and key
            else f"--{flag} is not set ({self.component.source})" if flag
            else f"{key} is not set"
        )  # fmt: skip
        if default is not None:
            where += f"; the default is {json.dumps(default)}"
        return Setting(default, where, False)

    def feature_gate(self, gate: str) -> Setting:
        """A feature gate from ``--feature-gates`` or config ``featureGates``."""
        for value in reversed(self.component.flags.get("feature-gates", [])):
            for pair in value.split(","):
                name, _, state = pair.partition("=")
                if name.strip() == gate:
                    return Setting(state.strip().lower() == "true", self.component.shown(
                        "feature-gates"), True)  # fmt: skip
        return self.get(None, f"featureGates.{gate}")


def _lookup(document: dict[str, Any], key: str) -> Any:
    node: Any = document
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return _UNSET
        node = node[part]
    return node


def _document(files: HostFiles, path: str) -> dict[str, Any]:
    text = files.read_text(path)
    if text is None:
        raise Unassessable(f"the kubelet's config file {path} does not exist")
    try:
        documents = read_yaml(text, path, max_documents=1)  # JSON is YAML
    except InputError as exc:
        raise Unassessable(exc.message) from None
    document = documents[0] if documents else {}
    if not isinstance(document, dict):
        raise Unassessable(f"{path} is not a KubeletConfiguration (not a mapping)")
    return document


def kubelet_settings(files: HostFiles, kubelet: Component) -> KubeletSettings:
    """The settings of ``kubelet``: its ``--config`` file and its ``--config-dir`` drop-ins
    (``*.conf``, in name order); a kubelet started without ``--config`` reads no file, even
    if one lies where its layout usually puts it. Unassessable when a named config file is
    missing or malformed."""
    settings = KubeletSettings(component=kubelet)
    path = kubelet.value("config")
    if path:
        settings.config_file = path
        settings.layers.append((path, _document(files, path)))
    directory = kubelet.value("config-dir")
    if directory:
        for name in files.list_dir(directory):
            if name.endswith(".conf"):
                settings.layers.append(
                    (f"{directory}/{name}", _document(files, f"{directory}/{name}"))
                )
    return settings
