"""The Docker daemon's effective configuration: its command line merged with daemon.json.

``dockerd`` refuses a setting given both as a flag and in daemon.json, so the two never
disagree; a lookup answers from whichever holds the key and says where the value came from,
which is what a finding shows as evidence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from seawall.hardening.commandline import parse_flags
from seawall.hardening.errors import Unassessable

# Flags that take no value (``--icc`` alone means true; ``--icc=false`` is how to unset).
_BOOLEAN_FLAGS = frozenset(
    {
        "icc", "iptables", "ip6tables", "ip-forward", "ip-masq", "userland-proxy",
        "live-restore", "no-new-privileges", "tls", "tlsverify", "experimental", "debug",
        "selinux-enabled", "raw-logs", "init", "ipv6", "rootless", "validate", "version",
        "help", "disable-legacy-registry",
    }
)  # fmt: skip
_SHORT_FLAGS = {
    "H": "host", "l": "log-level", "D": "debug", "G": "group", "p": "pidfile", "b": "bridge",
    "g": "graph", "s": "storage-driver", "e": "exec-driver", "v": "version", "h": "help",
}  # fmt: skip
# daemon.json key -> the (singular) flag that sets it, where they differ.
_JSON_TO_FLAG = {
    "hosts": "host",
    "insecure-registries": "insecure-registry",
    "authorization-plugins": "authorization-plugin",
    "default-ulimits": "default-ulimit",
    "storage-opts": "storage-opt",
    "log-opts": "log-opt",
    "registry-mirrors": "registry-mirror",
    "labels": "label",
    "dns": "dns",
}
DEFAULT_CONFIG_FILE = "/etc/docker/daemon.json"
MAX_CONFIG_BYTES = 1 << 20


def parse_cmdline(argv: list[str]) -> dict[str, list[str]]:
    """Flags of a ``dockerd`` command line (argv[0] excluded) by long name, in order."""
    return parse_flags(argv, booleans=_BOOLEAN_FLAGS, short=_SHORT_FLAGS)


@dataclass(frozen=True)
class Setting:
    """A value of the daemon's configuration and where it was set (the evidence)."""

    value: Any
    source: str  # "--icc=false", "daemon.json icc=false", "default"

    @property
    def is_set(self) -> bool:
        return self.source != "default"


@dataclass
class DaemonConfig:
    """Command-line flags and daemon.json of one daemon; errors say why a source is missing."""

    flags: dict[str, list[str]] = field(default_factory=dict)
    json: dict[str, Any] = field(default_factory=dict)
    config_file: str = DEFAULT_CONFIG_FILE
    cmdline_error: str = ""  # why the command line is unknown ("" when it was read)
    json_error: str = ""  # why daemon.json could not be used ("" when read or absent)

    def get(self, key: str, default: Any = None) -> Setting:
        """The setting ``key`` (daemon.json spelling), from the flags or daemon.json.

        Raises :class:`Unassessable` when the key is absent from what could be read but a
        source that might have set it could not be read.
        """
        flag = _JSON_TO_FLAG.get(key, key)
        if flag in self.flags:
            values = self.flags[flag]
            shown = " ".join(f"--{flag}={v}" for v in values)
            if flag in _BOOLEAN_FLAGS:
                return Setting(_boolean(values[-1]), shown)
            return Setting(values if key != flag or len(values) > 1 else values[-1], shown)
        if key in self.json:
            value = self.json[key]
            return Setting(value, f"daemon.json {key}={json.dumps(value)}")
        missing = [e for e in (self.cmdline_error, self.json_error) if e]
        if missing:
            raise Unassessable(f"{key} is not set where it could be read; " + "; ".join(missing))
        return Setting(default, "default")

    def truthy(self, key: str, default: bool = False) -> Setting:
        """A boolean setting (``"true"``/``true`` read as True)."""
        setting = self.get(key, default)
        return Setting(_boolean(setting.value), setting.source)


def _boolean(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "")
    return bool(value)


def parse_daemon_json(text: str) -> dict[str, Any]:
    """daemon.json as a mapping; ValueError with the reason when it is not one."""
    if len(text) > MAX_CONFIG_BYTES:
        raise ValueError("larger than 1 MiB")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise ValueError("invalid JSON: nested too deeply") from None
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    return document
