"""Linux audit (auditd) logs as runtime events: one event per syscall, records joined.

The kernel writes one syscall as several records sharing ``msg=audit(TIME:SERIAL)``:
``SYSCALL`` (who, which call, result), ``EXECVE`` (arguments), ``CWD``, ``PATH`` (one per
file), ``SOCKADDR`` (the peer of connect/bind), ``PROCTITLE`` and ``EOE`` (end). Values are
quoted text or, when they hold blanks or control characters, hex. Events are emitted at
``EOE``, or when too many are open, or on :meth:`AuditAssembler.flush`. Processes inside
containers are found from ``/proc/PID/cgroup`` (the 64-hex container id) while watching.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
import socket
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from seawall.model import Resource
from seawall.runtime.badinput import BadInput
from seawall.runtime.events import (
    Event,
    FieldType,
    SourceSpec,
    Value,
    field,
    field_table,
    register_source,
    url_hosts,
)
from seawall.runtime.timeutil import iso_from_epoch
from seawall.safety.limits import max_bytes

SOURCE = "auditd"
MAX_OPEN_EVENTS = 16
_HEADER = re.compile(r"^(?:node=(\S+) )?type=(\S+) msg=audit\((\d+)(?:\.(\d+))?:(\d+)\):\s?")
_PAIR = re.compile(r'([A-Za-z0-9_\[\]]+)=("[^"]*"|\S*)')
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})+$")
_CONTAINER_ID = re.compile(r"([0-9a-f]{64})")
_ARCH_NAMES = {"c000003e": "x86_64", "c00000b7": "aarch64"}
_SYSCALLS = {
    "x86_64": {
        2: "open", 257: "openat", 437: "openat2", 59: "execve", 322: "execveat", 42: "connect",
        49: "bind", 43: "accept", 288: "accept4", 87: "unlink", 263: "unlinkat", 82: "rename",
        264: "renameat", 316: "renameat2", 76: "truncate", 77: "ftruncate", 90: "chmod",
        268: "fchmodat", 92: "chown", 101: "ptrace", 272: "unshare", 308: "setns", 165: "mount",
        56: "clone", 435: "clone3", 62: "kill", 88: "symlink", 266: "symlinkat", 86: "link",
        265: "linkat", 105: "setuid", 175: "init_module", 313: "finit_module", 280: "utimensat",
        132: "utime", 235: "utimes", 44: "sendto", 41: "socket",
    },
    "aarch64": {
        56: "openat", 437: "openat2", 221: "execve", 281: "execveat", 203: "connect", 200: "bind",
        202: "accept", 242: "accept4", 35: "unlinkat", 38: "renameat", 276: "renameat2",
        45: "truncate", 46: "ftruncate", 53: "fchmodat", 117: "ptrace", 97: "unshare",
        268: "setns", 40: "mount", 220: "clone", 435: "clone3", 129: "kill", 36: "symlinkat",
        37: "linkat", 146: "setuid", 105: "init_module", 273: "finit_module", 88: "utimensat",
        206: "sendto", 198: "socket",
    },
}  # fmt: skip
_ENCODED = frozenset({"comm", "exe", "name", "cwd", "proctitle", "key", "cmd", "path", "data"})


def decode_value(key: str, raw: str) -> str:
    """A record value as text: quoted text as is, hex-encoded text decoded, else raw."""
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        return raw[1:-1]
    if raw == "(null)":
        return ""
    encoded = key in _ENCODED or (key.startswith("a") and key[1:2].isdigit())
    if encoded and _HEX.match(raw):
        return bytes.fromhex(raw).decode("utf-8", "replace")
    return raw


def parse_record(line: str) -> tuple[str, str, float, int, dict[str, str]] | None:
    """(node, type, time, serial, fields) of one log line; None when it is not a record."""
    match = _HEADER.match(line)
    if match is None:
        return None
    node, kind, secs, frac, serial = match.groups()
    body = line[match.end() :]
    body, _, enriched = body.partition("\x1d")  # log_format=ENRICHED appends names
    if kind in ("USER_CMD", "USER_LOGIN", "USER_AUTH") and "msg='" in body:
        body = body.replace("msg='", "").rstrip("'")
    fields = {k: v for k, v in _PAIR.findall(body)}
    for k, v in _PAIR.findall(enriched):
        fields.setdefault("_" + k, v.strip('"'))
    when = int(secs) + (int(frac) / 10 ** len(frac) if frac else 0.0)
    return node or "", kind, when, int(serial), fields


def parse_sockaddr(hexdata: str) -> tuple[str, str, int]:
    """(family, address, port) of a SOCKADDR ``saddr``; ("", "", 0) when unknown."""
    try:
        data = bytes.fromhex(hexdata)
    except ValueError:
        return "", "", 0
    if len(data) < 2:
        return "", "", 0
    family = int.from_bytes(data[:2], "little")
    if family == 2 and len(data) >= 8:
        return "inet", str(ipaddress.IPv4Address(data[4:8])), int.from_bytes(data[2:4], "big")
    if family == 10 and len(data) >= 24:
        addr = ipaddress.IPv6Address(data[8:24])
        text = str(addr.ipv4_mapped) if addr.ipv4_mapped else str(addr)
        return "inet6", text, int.from_bytes(data[2:4], "big")
    if family == 1:
        path = data[2:].split(b"\0", 1)[0].decode("utf-8", "replace")
        return "unix", path, 0
    return str(family), "", 0


class SyscallEvent:
    """The joined records of one syscall, decoded."""

    __slots__ = (
        "args",
        "container",
        "cwd",
        "family",
        "fields",
        "node",
        "paths",
        "pname",
        "port",
        "sip",
        "syscall",
        "time",
        "title",
    )

    def __init__(self, node: str, when: float) -> None:
        self.node = node
        self.time = when
        self.fields: dict[str, str] = {}
        self.syscall = ""
        self.args: list[str] = []
        self.title = ""
        self.cwd = ""
        self.paths: list[str] = []
        self.family = ""
        self.sip = ""
        self.port = 0
        self.container = ""
        self.pname = ""


def container_of_pid(pid: int, proc: Path = Path("/proc")) -> str:
    """The container id of a process from its cgroup path (Docker, containerd, CRI-O)."""
    try:
        text = (proc / str(pid) / "cgroup").read_text()
    except OSError:
        return ""
    match = _CONTAINER_ID.search(text)
    return match.group(1) if match else ""


def comm_of_pid(pid: int, proc: Path = Path("/proc")) -> str:
    try:
        return (proc / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""


class AuditAssembler:
    """Feeds on log lines and returns complete syscall events.

    ``container_of`` and ``comm_of`` look a pid up on the live system (``/proc``); replay of
    another host's log passes neither, and the process table built from the log's own
    ``execve`` events gives parent names.
    """

    def __init__(
        self,
        bad: BadInput | None = None,
        container_of: Callable[[int], str] | None = None,
        comm_of: Callable[[int], str] | None = None,
    ) -> None:
        self.bad = bad or BadInput()
        self.container_of = container_of
        self.comm_of = comm_of
        self._open: OrderedDict[int, SyscallEvent] = OrderedDict()
        self._comm: OrderedDict[int, str] = OrderedDict()
        self._max_line = max_bytes("AUDITD_LINE")

    def feed(self, line: str) -> list[Event]:
        if len(line) > self._max_line:
            self.bad("oversized audit record", f"{len(line)} characters")
            return []
        line = line.strip()
        if not line:
            return []
        record = parse_record(line)
        if record is None:
            self.bad("malformed audit record", line[:100])
            return []
        node, kind, when, serial, fields = record
        if kind == "EOE":
            return self._emit(serial)
        current = self._open.get(serial)
        out: list[Event] = []
        if current is None:
            current = self._open[serial] = SyscallEvent(node, when)
            if len(self._open) > MAX_OPEN_EVENTS:
                out.extend(self._emit(next(iter(self._open))))
        self._merge(current, kind, fields)
        if kind == "SYSCALL" and self.container_of is not None:
            current.container = self._container(fields)
        return out

    def _container(self, fields: dict[str, str]) -> str:
        """The container of the process, looked up at once (short-lived processes vanish),
        else of its parent (a shell inside the container often outlives its child)."""
        assert self.container_of is not None
        for key in ("pid", "ppid"):
            pid = _int(fields.get(key))
            found = self.container_of(pid) if pid else ""
            if found:
                return found
        return ""

    def flush(self) -> list[Event]:
        out: list[Event] = []
        for serial in list(self._open):
            out.extend(self._emit(serial))
        return out

    def _merge(self, ev: SyscallEvent, kind: str, fields: dict[str, str]) -> None:
        if kind == "SYSCALL":
            ev.fields = fields
            arch = _ARCH_NAMES.get(fields.get("arch", ""), "")
            number = fields.get("syscall", "")
            name = fields.get("_SYSCALL", "")
            if not name and number.isdigit():
                name = _SYSCALLS.get(arch, {}).get(int(number), f"syscall_{number}")
            ev.syscall = name or number
        elif kind == "EXECVE":
            ev.args = _execve_args(fields)
        elif kind == "PROCTITLE":
            raw = fields.get("proctitle", "")
            ev.title = (
                bytes.fromhex(raw).replace(b"\0", b" ").decode("utf-8", "replace").strip()
                if _HEX.match(raw)
                else decode_value("proctitle", raw)
            )
        elif kind == "CWD":
            ev.cwd = decode_value("cwd", fields.get("cwd", ""))
        elif kind == "PATH":
            name = decode_value("name", fields.get("name", ""))
            if name:
                ev.paths.append(name)
        elif kind == "SOCKADDR":
            ev.family, ev.sip, ev.port = parse_sockaddr(fields.get("saddr", ""))

    def _emit(self, serial: int) -> list[Event]:
        ev = self._open.pop(serial, None)
        if ev is None or not ev.fields:
            return []  # not a syscall event (user-space message, config change, ...)
        pid = _int(ev.fields.get("pid"))
        ppid = _int(ev.fields.get("ppid"))
        if ev.cwd:
            ev.paths = [
                p if p.startswith("/") else posixpath.normpath(posixpath.join(ev.cwd, p))
                for p in ev.paths
            ]
        ev.pname = self._comm.get(ppid or -1) or (
            self.comm_of(ppid) if self.comm_of and ppid else ""
        )
        if ev.syscall in ("execve", "execveat") and ev.fields.get("success") == "yes" and pid:
            self._comm[pid] = decode_value("comm", ev.fields.get("comm", ""))
            if len(self._comm) > 65536:
                self._comm.popitem(last=False)
        return [Event(SOURCE, (ev.syscall,), ev, {})]


def _execve_args(fields: dict[str, str]) -> list[str]:
    count = _int(fields.get("argc")) or 0
    args = []
    for i in range(min(count, 4096)):
        key = f"a{i}"
        if key in fields:
            args.append(decode_value(key, fields[key]))
            continue
        pieces = []
        j = 0
        while f"{key}[{j}]" in fields:
            pieces.append(decode_value(key, fields[f"{key}[{j}]"]))
            j += 1
        args.append("".join(pieces))
    return args


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


# ---- fields --------------------------------------------------------------------------------


def _sys(ev: Event) -> SyscallEvent:
    return ev.raw  # type: ignore[no-any-return]


def _field_text(name: str) -> Callable[[Event], Value]:
    return lambda ev: decode_value(name, _sys(ev).fields.get(name, ""))


def _field_int(name: str) -> Callable[[Event], Value]:
    return lambda ev: _int(_sys(ev).fields.get(name))


def _argv(ev: Event) -> list[str]:
    s = _sys(ev)
    return s.args or (s.title.split() if s.title else [])


def _proc_name(ev: Event) -> Value:
    """``comm``, except for busybox applets: its shell re-executes them through
    ``/proc/self/exe`` (comm ``exe``: the applet is ``argv[0]``) and ``busybox APPLET ...``
    runs as ``busybox`` (the applet is ``argv[1]``)."""
    s = _sys(ev)
    comm = decode_value("comm", s.fields.get("comm", ""))
    if comm == "exe" and s.args:
        return posixpath.basename(s.args[0]) or comm
    if comm == "busybox" and len(s.args) > 1:
        return posixpath.basename(s.args[1]) or comm
    return comm


def _cmdline(ev: Event) -> Value:
    s = _sys(ev)
    return " ".join(s.args) if s.args else s.title


FIELDS = field_table(
    field(
        "evt.type",
        lambda ev: _sys(ev).syscall,
        doc="syscall name: execve, connect, openat, ...",
    ),
    field("evt.success", lambda ev: _sys(ev).fields.get("success") == "yes", FieldType.BOOL),
    field("evt.exit", _field_int("exit"), FieldType.INT),
    field("evt.key", _field_text("key"), doc="the audit rule key (-k)"),
    field("proc.pid", _field_int("pid"), FieldType.INT),
    field("proc.ppid", _field_int("ppid"), FieldType.INT),
    field("proc.name", _proc_name, doc="the command name (comm); for busybox, the applet"),
    field("proc.exe", _field_text("exe")),
    field("proc.cmdline", _cmdline, doc="EXECVE arguments joined, else the PROCTITLE"),
    field("proc.args", lambda ev: " ".join(_argv(ev)[1:])),
    field("proc.pname", lambda ev: _sys(ev).pname, doc="parent process name"),
    field(
        "proc.url_hosts",
        lambda ev: url_hosts(str(_cmdline(ev))),
        multi=True,
        doc="hosts of URLs in the command line",
    ),
    field("proc.cwd", lambda ev: _sys(ev).cwd),
    field("proc.tty", _field_text("tty")),
    field("user.uid", _field_int("uid"), FieldType.INT),
    field("user.euid", _field_int("euid"), FieldType.INT),
    field("user.auid", _field_int("auid"), FieldType.INT),
    field(
        "fd.name",
        lambda ev: tuple(_sys(ev).paths),
        multi=True,
        doc="PATH record names (absolute)",
    ),
    field(
        "fd.sip",
        lambda ev: _sys(ev).sip if _sys(ev).family in ("inet", "inet6") else None,
        FieldType.IP,
    ),
    field("fd.sport", lambda ev: _sys(ev).port or None, FieldType.INT),
    field("fd.family", lambda ev: _sys(ev).family),
    field("fd.unix_path", lambda ev: _sys(ev).sip if _sys(ev).family == "unix" else ""),
    field("container.id", lambda ev: _sys(ev).container),
)


def _resource(ev: Event) -> Resource:
    s = _sys(ev)
    host = s.node or socket.gethostname()  # asked per alert: a long-running watch sees renames
    if s.container:
        return Resource(
            kind="container", name=s.container[:12], id=s.container, attributes={"host": host}
        )
    return Resource(kind="host", name=host, attributes={"host": host})


SPEC = register_source(
    SourceSpec(
        name=SOURCE,
        fields=FIELDS,
        index_fields=("evt.type",),
        resource=_resource,
        time=lambda ev: iso_from_epoch(_sys(ev).time),
    )
)
