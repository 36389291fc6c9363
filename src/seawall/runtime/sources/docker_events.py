"""Docker Engine events (``/events``) as runtime events, enriched by container inspection.

An engine event says little (``create``, ``exec_start: sh``, the image, the name); whether
the container is privileged, what it mounts and which namespaces it shares come from
``inspect``, done once per container and cached. Recorded dumps are JSON lines of either a
bare engine event (``docker events --format '{{json .}}'``) or ``{"event": ..., "inspect":
...}`` as written by :func:`record_line`, which keeps the inspection for later replay.
"""

from __future__ import annotations

import contextlib
import logging
import posixpath
import shlex
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import msgspec

from seawall.model import Resource
from seawall.runtime.badinput import BadInput
from seawall.runtime.events import (
    Event,
    FieldType,
    SourceSpec,
    Value,
    field,
    field_table,
    image_repository,
    register_source,
    url_hosts,
)
from seawall.runtime.timeutil import iso_from_epoch
from seawall.safety.jsondoc import JsonError, JsonLimitError, parse_json
from seawall.safety.limits import max_bytes

SOURCE = "docker"
_INSPECT_CACHE = 2048
log = logging.getLogger("seawall.runtime")


def _dig(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def make_event(
    engine_event: dict[str, Any],
    inspect: dict[str, Any] | None,
    exec_info: dict[str, Any] | None = None,
) -> Event | None:
    """An Event from one engine event, the container's inspection and, for exec events,
    the exec's inspection (its exact argv; the event's own text loses the quoting)."""
    kind = engine_event.get("Type") or ("container" if "status" in engine_event else "")
    action = engine_event.get("Action") or engine_event.get("status") or ""
    if not isinstance(kind, str) or not isinstance(action, str) or not action:
        return None
    verb, _, command = action.partition(":")
    raw = {
        "event": engine_event,
        "inspect": inspect or {},
        "exec": exec_info or {},
        "command": command.strip(),
    }
    return Event(SOURCE, (kind, verb.strip()), raw, {})


def parse_record(data: bytes, bad: BadInput) -> Event | None:
    """An Event from one recorded line (bare engine event or ``{"event", "inspect"}``)."""
    if len(data) > max_bytes("DOCKER_EVENT"):
        bad("oversized Docker event", f"{len(data)} bytes")
        return None
    try:
        obj = parse_json(data)
    except JsonLimitError as exc:
        bad("JSON beyond limits", str(exc))
        return None
    except JsonError as exc:
        bad("malformed JSON", str(exc))
        return None
    if isinstance(obj, dict) and isinstance(obj.get("event"), dict):
        inspect, exec_info = obj.get("inspect"), obj.get("exec")
        event = make_event(
            obj["event"],
            inspect if isinstance(inspect, dict) else None,
            exec_info if isinstance(exec_info, dict) else None,
        )
    elif isinstance(obj, dict):
        event = make_event(obj, None)
    else:
        event = None
    if event is None:
        bad("non-Docker JSON", repr(obj)[:100])
    return event


def record_line(event: Event) -> bytes:
    """The replayable JSON line of a live event (engine event plus inspection)."""
    raw = event.raw
    return msgspec.json.encode(
        {"event": raw["event"], "inspect": raw["inspect"], "exec": raw["exec"]}
    )


def looks_like_docker(obj: Any) -> bool:
    return isinstance(obj, dict) and (
        isinstance(obj.get("event"), dict) or ("Action" in obj and "Type" in obj)
    )


# ---- fields --------------------------------------------------------------------------------


def _attr(name: str) -> Callable[[Event], Value]:
    def extract(ev: Event) -> Value:
        value = _dig(ev.raw["event"], "Actor", "Attributes", name)
        return value if isinstance(value, str) else ""

    return extract


def _container_id(ev: Event) -> Value:
    event = ev.raw["event"]
    value = _dig(event, "Actor", "ID") or event.get("id") or ev.raw["inspect"].get("Id")
    return value if isinstance(value, str) else ""


def _container_name(ev: Event) -> Value:
    name = ev.raw["inspect"].get("Name") or _attr("name")(ev)
    return str(name).lstrip("/") if name else ""


def _image(ev: Event) -> Value:
    image = _dig(ev.raw["inspect"], "Config", "Image") or _attr("image")(ev)
    return str(image) if image else ""


def _container_argv(ev: Event) -> list[str]:
    inspect = ev.raw["inspect"]
    path, args = inspect.get("Path"), inspect.get("Args")
    if isinstance(path, str) and path:
        return [path, *(a for a in args or [] if isinstance(a, str))]
    config = inspect.get("Config") or {}
    words = [*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])]
    return [w for w in words if isinstance(w, str)]


def _argv(ev: Event) -> list[str]:
    """The process the event starts: the exec command, else the container's command.

    ``busybox APPLET ...`` is the applet: ``busybox sh -c x`` is a shell, ``busybox ls`` is not.
    """
    argv = _exec_argv(ev) if ev.key[1].startswith("exec_") else _container_argv(ev)
    if len(argv) > 1 and posixpath.basename(argv[0]) == "busybox":
        return argv[1:]
    return argv


def _is_healthcheck(ev: Event) -> Value:
    """True when an exec runs the container's own health check (the engine execs it every
    interval; it is not someone's shell)."""
    if not ev.key[1].startswith("exec_"):
        return False
    test = _dig(ev.raw["inspect"], "Config", "Healthcheck", "Test")
    if not isinstance(test, list) or not test or not all(isinstance(t, str) for t in test):
        return False
    if test[0] == "CMD-SHELL" and len(test) == 2:
        expected = ["/bin/sh", "-c", test[1]]
    elif test[0] == "CMD":
        expected = test[1:]
    else:
        return False
    return " ".join(_exec_argv(ev)) == " ".join(expected)


def _exec_argv(ev: Event) -> list[str]:
    config = ev.raw["exec"].get("ProcessConfig")
    if isinstance(config, dict) and isinstance(config.get("entrypoint"), str):
        args = config.get("arguments") or []
        return [config["entrypoint"], *(a for a in args if isinstance(a, str))]
    command: str = ev.raw["command"]
    return command.split()  # the engine joins argv with blanks, unquoted


def _mounts(ev: Event) -> Value:
    inspect = ev.raw["inspect"]
    sources = [m.get("Source") for m in inspect.get("Mounts") or [] if isinstance(m, dict)]
    binds = _dig(inspect, "HostConfig", "Binds") or []
    sources += [b.split(":", 1)[0] for b in binds if isinstance(b, str)]
    return tuple(dict.fromkeys(s.rstrip("/") or "/" for s in sources if isinstance(s, str) and s))


def _host_config(name: str) -> Callable[[Event], Value]:
    def extract(ev: Event) -> Value:
        value = _dig(ev.raw["inspect"], "HostConfig", name)
        if isinstance(value, list):
            return tuple(str(v) for v in value)
        return value if isinstance(value, str | bool) else None

    return extract


def _repository(ev: Event) -> Value:
    return image_repository(str(_image(ev)))


FIELDS = field_table(
    field("docker.type", lambda ev: ev.key[0], doc="container, image, network, volume, ..."),
    field(
        "docker.action",
        lambda ev: ev.key[1],
        doc="create, start, exec_create, exec_start, die, ...",
    ),
    field("container.id", _container_id),
    field("container.name", _container_name),
    field("container.image", _image),
    field("container.image.repository", _repository),
    field(
        "container.privileged",
        lambda ev: _dig(ev.raw["inspect"], "HostConfig", "Privileged") is True,
        FieldType.BOOL,
    ),
    field("container.mounts", _mounts, multi=True, doc="host paths mounted into the container"),
    field("container.pid_mode", _host_config("PidMode")),
    field("container.network_mode", _host_config("NetworkMode")),
    field("container.ipc_mode", _host_config("IpcMode")),
    field("container.cap_add", _host_config("CapAdd"), multi=True),
    field("container.user", lambda ev: str(_dig(ev.raw["inspect"], "Config", "User") or "")),
    field("container.cmdline", lambda ev: shlex.join(_container_argv(ev))),
    field(
        "proc.cmdline",
        lambda ev: " ".join(_argv(ev)),
        doc="exec command, or the container's command (argv joined with blanks)",
    ),
    field("proc.name", lambda ev: posixpath.basename(_argv(ev)[0]) if _argv(ev) else ""),
    field("proc.args", lambda ev: " ".join(_argv(ev)[1:])),
    field(
        "proc.url_hosts",
        lambda ev: url_hosts(shlex.join(_argv(ev))),
        multi=True,
        doc="hosts of URLs in the command",
    ),
    field("exec.id", _attr("execID")),
    field("exec.healthcheck", _is_healthcheck, FieldType.BOOL, doc="the exec is the health check"),
    field("exec.privileged", lambda ev: ev.raw["exec"].get("Privileged") is True, FieldType.BOOL),
    field("exec.user", lambda ev: str(_dig(ev.raw["exec"], "ProcessConfig", "user") or "")),
)


def _resource(ev: Event) -> Resource:
    name = str(_container_name(ev) or "")
    cid = str(_container_id(ev) or "")
    attributes = {"container": name} if name else {}
    image = str(_image(ev) or "")
    if image:
        attributes["image"] = image
    return Resource(kind="container", name=name or cid[:12], id=cid, attributes=attributes)


def _time(ev: Event) -> str:
    event = ev.raw["event"]
    nano = event.get("timeNano")
    if isinstance(nano, int):
        return iso_from_epoch(nano / 1e9)
    seconds = event.get("time")
    return iso_from_epoch(seconds) if isinstance(seconds, int | float) else ""


SPEC = register_source(
    SourceSpec(
        name=SOURCE,
        fields=FIELDS,
        index_fields=("docker.type", "docker.action"),
        resource=_resource,
        time=_time,
    )
)


# ---- live stream ---------------------------------------------------------------------------


class DockerEventStream:
    """Follows the engine's event stream from ``since`` and inspects containers once each."""

    WANTED = frozenset({"create", "start", "exec_create", "exec_start", "attach", "destroy"})

    def __init__(self, client: Any, bad: BadInput | None = None) -> None:
        self.client = client
        self.bad = bad or BadInput()
        self._inspected: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._stop = threading.Event()
        self._stream: Any = None

    def _inspect(self, container_id: str, refresh: bool) -> dict[str, Any]:
        if not refresh and container_id in self._inspected:
            return self._inspected[container_id]
        try:
            attrs = self.client.api.inspect_container(container_id)
        except Exception as exc:
            self.bad("container inspection failed", str(exc))
            return {}
        self._inspected[container_id] = attrs
        if len(self._inspected) > _INSPECT_CACHE:
            self._inspected.popitem(last=False)
        return attrs if isinstance(attrs, dict) else {}

    def _exec(self, engine_event: dict[str, Any]) -> dict[str, Any] | None:
        exec_id = _dig(engine_event, "Actor", "Attributes", "execID")
        if not isinstance(exec_id, str):
            return None
        try:
            info = self.client.api.exec_inspect(exec_id)
        except Exception as exc:
            self.bad("exec inspection failed", str(exc))
            return None
        return info if isinstance(info, dict) else None

    def events(self, since: float) -> Iterator[Event]:
        """Events until :meth:`stop`; only container events are enriched."""
        self._stream = self.client.api.events(
            since=f"{since:.9f}", decode=True, filters={"type": "container"}
        )
        since_nano = int(since * 1e9)
        for engine_event in self._stream:
            if self._stop.is_set():
                return
            if not isinstance(engine_event, dict):
                self.bad("non-Docker JSON", repr(engine_event)[:100])
                continue
            nano = engine_event.get("timeNano")
            if isinstance(nano, int) and nano < since_nano:
                continue  # before the watcher started
            action = str(engine_event.get("Action") or "").partition(":")[0]
            if action not in self.WANTED:
                continue
            cid = str(_dig(engine_event, "Actor", "ID") or "")
            if action == "destroy":
                self._inspected.pop(cid, None)
                continue
            inspect = self._inspect(cid, refresh=action in ("create", "start")) if cid else {}
            exec_info = self._exec(engine_event) if action.startswith("exec_") else None
            event = make_event(engine_event, inspect, exec_info)
            if event is not None:
                yield event

    def stop(self) -> None:
        self._stop.set()
        if self._stream is not None:
            with contextlib.suppress(Exception):  # closing a dead stream
                self._stream.close()
