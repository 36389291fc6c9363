"""systemd units below a host root: where a unit file is, its drop-ins, and the command
line its ``ExecStart=`` runs once ``Environment=`` and ``EnvironmentFile=`` are expanded (how
kubeadm passes the kubelet its flags: ``10-kubeadm.conf`` and ``kubeadm-flags.env``)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from seawall.hardening.errors import Unassessable
from seawall.hardening.hostfiles import HostFiles

# systemd's search order for system units (the first directory holding a unit wins).
UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
             "/lib/systemd/system", "/usr/lib/systemd/system")  # fmt: skip
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def unit_file(files: HostFiles, unit: str) -> str:
    """The host path of ``unit`` (first found in systemd's search order), or ""."""
    for directory in UNIT_DIRS:
        path = f"{directory}/{unit}"
        if files.exists(path):
            return path
    return ""


def first_unit(files: HostFiles, units: tuple[str, ...]) -> str:
    """The first of ``units`` this host has (a unit file or drop-ins), else the first:
    a distribution names its server's and its agent's units differently."""
    return next((u for u in units if unit_file(files, u) or drop_ins(files, u)), units[0])


def drop_ins(files: HostFiles, unit: str) -> list[str]:
    """The ``<unit>.d/*.conf`` drop-ins in the order systemd applies them (by file name; a
    name in an earlier directory hides the same name in a later one)."""
    chosen: dict[str, str] = {}
    for directory in UNIT_DIRS:
        folder = f"{directory}/{unit}.d"
        for name in files.list_dir(folder):
            if name.endswith(".conf"):
                chosen.setdefault(name, f"{folder}/{name}")
    return [chosen[name] for name in sorted(chosen)]


@dataclass
class ServiceCommand:
    """What a service runs: argv after expansion, and every file it was read from."""

    argv: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def _settings(text: str) -> list[tuple[str, str]]:
    """``Key=Value`` lines of the ``[Service]`` section, continuation lines joined."""
    settings: list[tuple[str, str]] = []
    section = ""
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, separator, value = line.partition("=")
        if separator and section == "Service":
            settings.append((key.strip(), value.strip()))
    return settings


def _assignments(value: str) -> dict[str, str]:
    try:
        words = shlex.split(value)
    except ValueError:
        words = value.split()
    pairs = (word.partition("=") for word in words)
    return {name: text for name, sep, text in pairs if sep and name}


def _environment_file(files: HostFiles, value: str, command: ServiceCommand) -> dict[str, str]:
    optional = value.startswith("-")
    path = value.lstrip("-")
    text = files.read_text(path)
    if text is None:
        if optional:
            return {}
        raise Unassessable(f"EnvironmentFile {path} does not exist")
    command.sources.append(path)
    found: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")):
            found.update(_assignments(line))
    return found


def _expand(words: list[str], environment: dict[str, str]) -> list[str]:
    """systemd's expansion: a word that is exactly ``$VAR`` splits into the variable's
    words; ``${VAR}`` (or ``$VAR`` inside a word) substitutes in place."""
    expanded: list[str] = []
    for word in words:
        whole = _VARIABLE.fullmatch(word)
        if whole and whole.group(2):
            value = environment.get(whole.group(2), "")
            try:
                expanded += shlex.split(value)
            except ValueError:
                expanded += value.split()
            continue
        expanded.append(
            _VARIABLE.sub(lambda m: environment.get(m.group(1) or m.group(2), ""), word)
        )
    return expanded


def service_command(files: HostFiles, unit: str) -> ServiceCommand:
    """The command ``unit`` runs, read from its unit file and drop-ins. Unassessable when the
    unit does not exist or names no ``ExecStart=``."""
    path = unit_file(files, unit)
    parts = ([path] if path else []) + drop_ins(files, unit)
    if not parts:
        raise Unassessable(f"no {unit} unit under {', '.join(UNIT_DIRS)}")
    command = ServiceCommand()
    environment: dict[str, str] = {}
    environment_files: list[str] = []
    exec_start = ""
    for part in parts:
        command.sources.append(part)
        for key, value in _settings(files.read_text(part) or ""):
            if key == "Environment":
                environment.update(_assignments(value))
            elif key == "EnvironmentFile":
                environment_files.append(value)
            elif key == "ExecStart":
                exec_start = value  # an empty ExecStart= resets the list
    for value in environment_files:  # they override Environment=, in order
        environment.update(_environment_file(files, value, command))
    if not exec_start:
        raise Unassessable(f"{unit} has no ExecStart= in {', '.join(parts)}")
    try:
        words = shlex.split(exec_start.lstrip("-@:+!"))
    except ValueError as exc:
        raise Unassessable(f"{unit}: ExecStart= cannot be split: {exc}") from None
    command.argv = _expand(words, environment)
    return command
